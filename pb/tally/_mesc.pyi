"""Types of the compiled add1 loop (pb/tally/_mesc.c)."""

from typing import Any

import numpy.typing as npt

Buffer = npt.NDArray[Any]  # C-contiguous int64 or float64 arrays

VERSION: int

class Problem:
    def __init__(
        self,
        groups: int,
        projects: int,
        supp_ptr: Buffer,
        supp_idx: Buffer,
        ui: Buffer,
        uf: Buffer,
        wsf: Buffer,
        wuf: Buffer,
        weights: Buffer,
        costs: Buffer,
        utot: Buffer,
        rank: Buffer,
        costf: Buffer,
        utotf: Buffer,
        wsum: Buffer,
        ov_ptr: Buffer,
        ov_idx: Buffer,
        heap0_key: Buffer,
        heap0_j: Buffer,
    ) -> None: ...
    def run_cost(self, bf: float, eps_b: float, /) -> int:
        """Total cost of MES at start budget bf, or -1 where the exact engine must decide."""
    def winners(self, bf: float, eps_b: float, /) -> list[int] | int:
        """The projects MES funds at start budget bf, in order, or -1 where the exact engine
        must decide."""
    def replay(
        self,
        x: float,
        funded: Buffer,
        lo_start: float,
        first: float,
        lo_rho: Buffer | None,
        lo_after: Buffer | None,
        after: Buffer,
        /,
    ) -> list[float] | tuple[float, float]:
        """MES at start x with the winners fixed (mes._prove): the prices raised by their
        rounding bound (the budgets after each round in after), or, if not proved,
        (length, later) as mes._Failed."""
