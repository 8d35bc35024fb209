"""Custom autograd Functions with several results, marked results and inputs written in
place, written once for a library (``tensorgrad`` or ``torch``) as PyTorch code writes them.
Each backward notes what it received in ``seen``, so tests can hold that against PyTorch's."""

from __future__ import annotations

from typing import Any


def functions(lib: Any, seen: list) -> dict[str, Any]:
    """The Functions, on ``lib``'s tensors; ``seen`` gets each backward's gradients."""
    Function = lib.autograd.Function

    class SortWithIndex(Function):  # a result and its indices, which carry no gradient
        @staticmethod
        def forward(ctx, x):
            values, index = x.sort(dim=-1)
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(index)
            return values, index

        @staticmethod
        def backward(ctx, grad_values, grad_index):
            seen.append((grad_values, grad_index))
            (index,) = ctx.saved_tensors
            return lib.zeros_like(grad_values).scatter_(-1, index, grad_values)

    class MulAdd(Function):  # two floating results, and an argument that needs no gradient
        @staticmethod
        def forward(ctx, a, b, c):
            ctx.save_for_backward(a, b)
            return a * b + c, a - b

        @staticmethod
        def backward(ctx, g_sum, g_difference):
            seen.append((g_sum, g_difference))
            a, b = ctx.saved_tensors
            grads = [None, None, None]
            if ctx.needs_input_grad[0]:
                grads[0] = g_sum * b + g_difference
            if ctx.needs_input_grad[1]:
                grads[1] = g_sum * a - g_difference
            if ctx.needs_input_grad[2]:
                grads[2] = g_sum
            return tuple(grads)

    class WithNumber(Function):  # a tensor, a number and a 0-d tensor
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, 3, (x * x).sum()

        @staticmethod
        def backward(ctx, g_double, g_number, g_squares):
            seen.append((g_double, g_number, g_squares))
            (x,) = ctx.saved_tensors
            return g_double * 2 + g_squares * 2 * x

    class TwoDtypes(Function):  # results of two floating dtypes
        @staticmethod
        def forward(ctx, x):
            return x.to(lib.float32) * 2, x.to(lib.float64) * 3

        @staticmethod
        def backward(ctx, g_single, g_double):
            seen.append((g_single, g_double))
            return g_single * 2 + g_double * 3

    class MarkedFloat(Function):  # a floating result marked non-differentiable
        @staticmethod
        def forward(ctx, x):
            halves = x / 2
            ctx.mark_non_differentiable(halves)
            return x * 3, halves

        @staticmethod
        def backward(ctx, g_triple, g_halves):
            seen.append((g_triple, g_halves))
            return g_triple * 3

    class AddOneInPlace(Function):  # an input written in place, and returned
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            seen.append((grad,))
            return grad

    class ScaleInPlace(Function):  # written in place, and a second result
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x, x * 5

        @staticmethod
        def backward(ctx, g_scaled, g_times_five):
            seen.append((g_scaled, g_times_five))
            return g_scaled * 2 + g_times_five * 10

    class Clip(Function):  # a backward that cannot itself be differentiated
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(-1, 1)

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x.abs() <= 1)

    return {cls.__name__: cls for cls in (SortWithIndex, MulAdd, WithNumber, TwoDtypes,
                                          MarkedFloat, AddOneInPlace, ScaleInPlace, Clip)}
