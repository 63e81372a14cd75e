"""A synthetic YouTube channel's daily views, from a seeded and documented generator.

The lecture's channel data is not public, so the default dataset is made here instead. Its
ingredients are things real channels show (a weekly cycle with low Fridays and Saturdays,
growth that levels off, an audience that drifts, viral days and bad days), and a few of
them were chosen *so that the lecture's effects appear*: a line cannot follow them and a
network can. `resources/datasets/PROVENANCE.md` lists every parameter and why it is there;
a test rebuilds the shipped CSV exactly.

On the log scale, day t's views are the trend plus four parts:

    ln mean(t) = ln level(t) + fade(t) * weekly(t) + yearly(t) + holiday(t)
                 + audience(t) + spike(t) + dip(t)
    views(t) ~ Poisson(mean(t))

- level(t) = plateau + (level - plateau) * exp(-t / growth_years): growth that levels off,
  so the unseen year lies inside the range the training years cover (a model that only
  ever saw smaller values has to extrapolate, and networks extrapolate badly).
- audience(t) = audience_phi * audience(t-1) + N(0, audience_sigma^2): the regular
  audience drifts slowly. This is what makes yesterday the best single predictor (the
  1-day line's w near 1).
- spike(t): a viral day adds a jump; the next day only `spike_keep` of it is left (the
  recommendation wave collapses fast), or `spike_keep_weekend` when that day is a Saturday
  or Sunday (people keep watching at the weekend). This is the threshold dynamic a line
  cannot follow: above the trend, views fall back fast; a line must average that with
  ordinary days, where yesterday carries over.
- dip(t): a bad day (an outage, a strike) removes a part of the audience, which comes back
  slowly: `dip_keep` of the dip is left the next day. Below the trend, views recover
  slowly: the other side of the kink.
- fade(t) = 1 - spike_weekly_fade * min(1, spike(t) / 0.3): during a spike most viewers
  come from recommendations, not from the regular audience's week, so the weekly cycle
  fades. Together with the weekend hold, the next day depends on two things at once
  (the weekday and whether the channel is in a spike): a regime deeper networks can use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

SPIKE_FULL = 0.3   # a spike this large (ln views) fades the weekly cycle fully


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
    audience_phi: float = 0.95           # AR(1) coefficient of the audience (ln views)
    audience_sigma: float = 0.02         # its daily innovation s.d.
    viral_rate: float = 1 / 15           # chance of a viral day
    viral_log_mean: float = -0.92        # ln(jump): median jump 0.40 in ln views (x1.5)
    viral_log_sd: float = 0.3            # spread of ln(jump)
    spike_keep: float = 0.35             # part of a spike left the next day
    spike_keep_weekend: float = 0.80     # ... when the next day is a Saturday or Sunday
    spike_weekly_fade: float = 0.8       # how much of the weekly cycle a full spike hides
    dip_rate: float = 1 / 40             # chance of a bad day
    dip_log_mean: float = -1.39          # ln(drop): median drop 0.25 in ln views (x0.78)
    dip_log_sd: float = 0.3              # spread of ln(drop)
    dip_keep: float = 0.92               # part of a dip left the next day

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
    weekly = np.log(np.asarray(p.weekly, dtype=float))[weekday]
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    doy = (dates - year_start).astype("int64") + 1
    yearly = np.log1p(p.yearly_amplitude
                      * np.cos(2 * np.pi * (doy - p.yearly_peak_day) / 365.25))
    month = dates.astype("datetime64[M]").astype("int64") % 12 + 1
    mday = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype("int64") + 1
    holiday = np.zeros(n)
    for m, d, f in p.holidays:
        holiday[(month == m) & (mday == d)] = np.log(f)
    innovations = rng.normal(0.0, p.audience_sigma, n)
    viral = rng.random(n) < p.viral_rate
    jumps = np.exp(rng.normal(p.viral_log_mean, p.viral_log_sd, n))
    bad = rng.random(n) < p.dip_rate
    drops = np.exp(rng.normal(p.dip_log_mean, p.dip_log_sd, n))
    keep = np.where(weekday >= 5, p.spike_keep_weekend, p.spike_keep)
    audience, spike, dip = np.zeros(n), np.zeros(n), np.zeros(n)
    a = s = g = 0.0
    for i in range(n):
        a = p.audience_phi * a + innovations[i]
        s = keep[i] * s + (jumps[i] if viral[i] else 0.0)
        g = p.dip_keep * g - (drops[i] if bad[i] else 0.0)
        audience[i], spike[i], dip[i] = a, s, g
    fade = 1.0 - p.spike_weekly_fade * np.clip(spike / SPIKE_FULL, 0.0, 1.0)
    mean = level * np.exp(fade * weekly + yearly + holiday + audience + spike + dip)
    views = rng.poisson(mean).astype(np.float64)
    return dates, views
