"""Correctly rounded square roots for PyTorch on the CPU: the one setting of portable kernels that no
environment variable gives (scripts/slkd/backends/sockeye3.py, PORTABLE).

PyTorch 2.13's CPU `sqrt` of float32 calls MKL's vector math (vsSqrt, accurate to about an ulp), whose code path
depends on the processor's vendor and instruction set whatever MKL_CBWR says: an AMD EPYC and an (emulated)
Intel Haswell give other last bits for a fifth of the inputs, and Adam's update (exp_avg_sq.sqrt()) carries them
into every parameter. Computed in float64 and rounded to the tensor's type, the square root is correctly
rounded (float64 has more than twice float32's precision plus two bits), so the same on every processor.

`install()` routes torch.sqrt, Tensor.sqrt and Tensor.sqrt_ on CPU floating tensors narrower than float64
through it; run in the trainer's process (scripts/sockeye3_entry.py) when $SLKD_CPU_KERNELS is `portable`.
Needs torch: the Sockeye 3 interpreter imports it, the workflow's does not.
"""

from __future__ import annotations

from typing import Any

ENV = "SLKD_CPU_KERNELS"


def install() -> bool:
    """Patch torch's sqrt entry points (idempotent); True when they were patched by this call."""
    import torch

    if getattr(torch.sqrt, "_slkd_portable", False):
        return False
    sqrt, tensor_sqrt = torch.sqrt, torch.Tensor.sqrt
    narrow = (torch.float32, torch.float16, torch.bfloat16)

    def rounded(tensor: Any) -> bool:
        return isinstance(tensor, torch.Tensor) and tensor.dtype in narrow and tensor.device.type == "cpu"

    def portable_sqrt(input: Any, *, out: Any = None) -> Any:
        if not rounded(input):
            return sqrt(input) if out is None else sqrt(input, out=out)
        result = sqrt(input.double()).to(input.dtype)
        return result if out is None else out.copy_(result)

    def portable_tensor_sqrt(self: Any) -> Any:
        return sqrt(self.double()).to(self.dtype) if rounded(self) else tensor_sqrt(self)

    def portable_tensor_sqrt_(self: Any) -> Any:
        return self.copy_(sqrt(self.double())) if rounded(self) else sqrt(self, out=self)

    portable_sqrt._slkd_portable = True  # type: ignore[attr-defined]
    torch.sqrt = portable_sqrt
    torch.Tensor.sqrt = portable_tensor_sqrt
    torch.Tensor.sqrt_ = portable_tensor_sqrt_
    return True
