"""Pure judgements over what the selftest measured: memory growth, latency, allocations."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from edge_agent.selftest.report import FAIL, INFO, PASS, SKIP, Line

MAX_GROWTH_PCT_PER_MIN = 1.0
MIN_JUDGED_S = 30.0  # a shorter window cannot tell 1 %/min from allocator noise


def growth_pct_per_min(samples: Sequence[Tuple[float, int]], warmup_s: float) -> Tuple[
        Optional[float], float]:
    """(least-squares RSS slope in % of the mean per minute, seconds judged) after warm-up."""
    if not samples:
        return None, 0.0
    start = samples[0][0] + warmup_s
    kept = [(t, float(rss)) for t, rss in samples if t >= start]
    if len(kept) < 3:
        return None, 0.0
    span_s = kept[-1][0] - kept[0][0]
    mean_t = sum(t for t, _ in kept) / len(kept)
    mean_rss = sum(r for _, r in kept) / len(kept)
    var_t = sum((t - mean_t) ** 2 for t, _ in kept)
    if var_t <= 0 or mean_rss <= 0:
        return None, span_s
    slope = sum((t - mean_t) * (r - mean_rss) for t, r in kept) / var_t  # bytes per second
    return 100.0 * slope * 60.0 / mean_rss, span_s


def memory_line(samples: Sequence[Tuple[float, int]], warmup_s: float) -> Line:
    """PASS below 1 %/min after warm-up; SKIP when the run was too short to judge."""
    growth, span_s = growth_pct_per_min(samples, warmup_s)
    first = samples[0][1] / 2**20 if samples else 0.0
    last = samples[-1][1] / 2**20 if samples else 0.0
    figures = f"RSS {first:.0f} → {last:.0f} MiB"
    if growth is None or span_s < MIN_JUDGED_S:
        return Line("memory growth", SKIP, f"{figures}; only {span_s:.0f} s after a "
                    f"{warmup_s:.0f} s warm-up (needs {MIN_JUDGED_S:.0f} s: --duration-s 60)")
    verdict = PASS if growth < MAX_GROWTH_PCT_PER_MIN else FAIL
    return Line("memory growth", verdict, f"{growth:+.2f} %/min over {span_s:.0f} s after a "
                f"{warmup_s:.0f} s warm-up (limit {MAX_GROWTH_PCT_PER_MIN:g} %/min); {figures}")


def latency_line(name: str, measured_ms: Optional[float], rate_hz: float,
                 source: str, judged: bool = True) -> Line:
    """Compare a model's latency with the period its profile rate allows. `judged` False (the
    CPU profile, whose rate is a setting rather than a figure derived from published
    measurements) reports the comparison as INFO."""
    if measured_ms is None:
        return Line(f"latency {name}", SKIP, f"no {name} inference measured ({source})")
    if rate_hz <= 0:
        return Line(f"latency {name}", INFO, f"{measured_ms:.1f} ms ({source}); the profile "
                    "sets no rate to compare with")
    period_ms = 1000.0 / rate_hz
    verdict = (PASS if measured_ms <= period_ms else FAIL) if judged else INFO
    return Line(f"latency {name}", verdict, f"{measured_ms:.1f} ms ({source}) vs "
                f"{period_ms:.0f} ms per frame at the profile's {rate_hz:g} Hz"
                + ("" if judged else " (CPU profile: not judged)"))


def allocation_line(name: str, allocations: Optional[int], runs: int) -> Line:
    """Zero CUDA allocations over `runs` steady-state inferences passes."""
    if allocations is None:
        return Line(f"pinned allocations {name}", SKIP, "engine does not count allocations")
    per_run = allocations / runs if runs else 0.0
    verdict = PASS if allocations == 0 else FAIL
    return Line(f"pinned allocations {name}", verdict,
                f"{allocations} allocation(s) in {runs} steady-state inferences "
                f"({per_run:.2f} per inference; expected 0)")
