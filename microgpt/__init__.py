"""microgpt: Karpathy's microgpt GPT, trained on the tensorgrad engine."""
