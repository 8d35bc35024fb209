"""Where the tests find the repository and the dataset that every checkout has beside it."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# ../shared/names.txt beside the checkout (the same file as the shipped microgpt/names.txt);
# the tests that need it skip where it is missing.
SHARED_NAMES = REPO.parent / "shared" / "names.txt"
