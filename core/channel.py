"""A synthetic YouTube channel's daily views, from a seeded and documented generator.

The lecture's channel data is not public, so the default dataset is made here instead. Each
ingredient below is something real channels show and the lecture talks about (a weekly
cycle with low Fridays and Saturdays, growth that levels off, bursts after uploads); the
parameters live in one frozen dataclass so `resources/datasets/PROVENANCE.md` can list them
and a test can rebuild the shipped CSV exactly.

level(t) = plateau + (level - plateau) * exp(-t / growth_years): growth that levels off, so
the unseen year lies inside the range the training years cover (a model that only ever saw
smaller values has to extrapolate, and networks extrapolate badly).

views(t) ~ Poisson( level(t) * weekly(t) * yearly(t) * holiday(t) * exp(ar1(t))
                    + bursts(t) )
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class ChannelParams:
    """Every knob of the generator (documented in PROVENANCE.md)."""

    start: str = "2017-01-01"
    end: str = "2021-12-31"
    seed: int = 20210226                 # the lecture's date
    level: float = 3300.0                # views/day on the first day (trend, before effects)
    plateau: float = 5000.0              # views/day the trend levels off at
    growth_years: float = 1.0            # e-folding time of the approach to the plateau
    # Monday..Sunday multipliers (low Friday and Saturday, as in the lecture)
    weekly: tuple[float, ...] = (1.06, 1.08, 1.07, 1.04, 0.91, 0.86, 0.96)
    yearly_amplitude: float = 0.08       # +-8 %, peak on `yearly_peak_day`
    yearly_peak_day: int = 300           # day of year (late October)
    # (month, day): multiplier
    holidays: tuple[tuple[int, int, float], ...] = field(default=(
        (12, 24, 0.80), (12, 25, 0.70), (12, 26, 0.85), (12, 31, 0.85), (1, 1, 0.75)))
    burst_rate: float = 1 / 30           # chance of an upload burst on a day
    burst_log_mean: float = -1.2         # ln(size / level): median burst = 0.30 x level
    burst_log_sd: float = 0.5            # spread of ln(size): a few big bursts, no huge ones
    burst_decay_days: float = 2.5        # e-folding time of a burst
    burst_length: int = 14               # days a burst is followed
    ar_phi: float = 0.6                  # AR(1) coefficient of the log-scale noise
    ar_sigma: float = 0.055              # innovation s.d. of the log-scale noise

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def generate(params: ChannelParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(dates datetime64[D], views float64 integer counts) for `params` (seeded)."""
    p = params or ChannelParams()
    dates = np.arange(np.datetime64(p.start, "D"), np.datetime64(p.end, "D") + 1)
    n = len(dates)
    rng = np.random.default_rng(p.seed)
    t_years = np.arange(n) / 365.25
    level = p.plateau + (p.level - p.plateau) * np.exp(-t_years / p.growth_years)
    weekday = (dates.astype("int64") + 3) % 7           # 1970-01-01 was a Thursday; Mon = 0
    weekly = np.asarray(p.weekly, dtype=float)[weekday]
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    doy = (dates - year_start).astype("int64") + 1
    yearly = 1.0 + p.yearly_amplitude * np.cos(2 * np.pi * (doy - p.yearly_peak_day) / 365.25)
    month = dates.astype("datetime64[M]").astype("int64") % 12 + 1
    mday = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype("int64") + 1
    holiday = np.ones(n)
    for m, d, f in p.holidays:
        holiday[(month == m) & (mday == d)] = f
    # AR(1) noise on the log scale, started from its stationary distribution
    eps = rng.normal(0.0, p.ar_sigma, n)
    ar = np.empty(n)
    ar[0] = eps[0] / np.sqrt(1.0 - p.ar_phi**2)
    for i in range(1, n):
        ar[i] = p.ar_phi * ar[i - 1] + eps[i]
    base = level * weekly * yearly * holiday * np.exp(ar)
    # upload bursts: extra views that decay over the following days
    uploads = rng.random(n) < p.burst_rate
    sizes = np.exp(rng.normal(p.burst_log_mean, p.burst_log_sd, n)) * level
    kernel = np.exp(-np.arange(p.burst_length) / p.burst_decay_days)
    bursts = np.convolve(np.where(uploads, sizes, 0.0), kernel)[:n]
    views = rng.poisson(base + bursts).astype(np.float64)
    return dates, views
