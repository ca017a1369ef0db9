"""Benchmark of the PDF letter renderer against bare WeasyPrint on the same HTML.

One run measures, in one process pinned to one core:

1. app throughput: ``LetterRenderer.render`` (Jinja in the sandbox, mandatory-clause check on the HTML text,
   WeasyPrint with the app's reused FontConfiguration + parsed CSS, its safe URL fetcher, PDF/A-3b) for a
   1-page letter (acknowledgement, short description) and a 3-page letter (final_response with a long
   ``decision_reasons``; the page count is checked with pdfplumber on both PDFs). The contexts are built as
   production builds them (``domain.letters.letter_context_for`` on the admin preview's sample complaint,
   with the seeded letterheads of a temporary ``complaints init`` database): dates, amounts, salutations and
   the clause selection all included in what is measured once per context, not per render;
2. the ceiling: bare WeasyPrint on the SAME HTML (taken once from ``renderer.html(...)``) with its own reused
   ``FontConfiguration`` and ``CSS(filename=letters/base.css)``, the same ``pdf_variant``, the default fetcher;
3. ``ratio_1page`` / ``ratio_3page`` = app / bare (target >= 0.9) and ``one_page_per_s`` (target >= 11, with
   Debian's libharfbuzz-subset0; whether it is installed and loaded by WeasyPrint is reported);
4. memory: RSS (VmRSS) over ``--renders`` renders (default 1,000) through the app's renderer, cycling
   acknowledgement / final_response (1 and 3 pages) in pl, en, uk with a new reference each time; MB at
   render 100 and at the last render, growth between them (target < 10 MB).

Throughput: warm-up renders, then ``--batches`` batches (default 7); in each batch app and bare run
back to back (order alternating between batches), ``--batch`` letters each; the figure is the median of the
per-batch rates. Also a breakdown of the app's own work outside WeasyPrint (Jinja, clause check).

    python bench/letters.py [--json] [--renders 1000] [--batches 7] [--batch 20] [--profile]

About 1.5 minutes on a 2 vCPU VM by default; ``--renders 200 --batches 3`` takes ~25 s.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

# Run as a script, this folder comes first on the path, and bench/http.py would hide the standard library's
# http: take it off.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parent.parent / "letters"
PDF_VARIANT = "pdf/a-3b"
TARGETS = {"ratio": 0.9, "one_page_per_s": 11.0, "rss_growth_mb": 10.0}

# One paragraph of decision reasons (Polish, with diacritics); repeated to make the letter span 3 pages.
PARAGRAPH = ("Przeanalizowaliśmy historię Pana rachunku, nagrania rozmów z infolinią oraz korespondencję z firmą "
             "kurierską i porównaliśmy je z warunkami umowy oraz przepisami o prawach konsumenta. Ustaliliśmy, że "
             "przesyłka została doręczona z opóźnieniem, a opłata za ekspresową dostawę została pobrana "
             "niesłusznie; pozostałe zarzuty nie znalazły potwierdzenia w dokumentach. ")


def open_app():
    """A temporary instance initialised as ``complaints init`` does (letterheads seeded), its context pushed."""
    import tempfile

    from complaints_app import create_app
    from complaints_app.config import Settings

    folder = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    app = create_app(Settings.from_env(environ={}, instance_path=str(folder), secret_key="bench",
                                       database_url=f"sqlite:///{folder / 'bench.sqlite'}"))
    result = app.test_cli_runner().invoke(args=["init"])
    if result.exit_code != 0:
        raise SystemExit(f"complaints init failed: {result.output}")
    app.app_context().push()
    return app


def context(letter_type: str = "final_response", language: str = "pl", reference: str | None = None,
            description: str | None = None, **texts) -> dict:
    """The context production gives a Polish consumer letter: the admin preview's sample complaint
    (letters/sample.json) with these customer-facing ``texts`` and, quoted, this ``description``."""
    from complaints_app.domain.letters import letter_context_for, sample

    letter, complaint = sample(letter_type, language, "PL", "consumer")
    letter.context["texts"].update(texts)
    if reference:
        complaint.reference = reference
    if description:
        complaint.description, complaint.quote_description = description, True
    return letter_context_for(letter, complaint, None)


def long_text(paragraphs: int) -> str:
    return "\n\n".join(PARAGRAPH * 3 for _ in range(paragraphs))


def pages_of(pdf: bytes) -> int:
    import pdfplumber
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def has_output_intent(pdf: bytes) -> bool:
    """PDF/A: the colour profile the catalog declares (pdfplumber; the objects may be compressed)."""
    import pdfplumber
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "OutputIntents" in document.doc.catalog


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def harfbuzz_subset_info() -> dict:
    info = {"package": "libharfbuzz-subset0", "installed": False, "version": None}
    try:
        out = subprocess.run(["dpkg", "-s", "libharfbuzz-subset0"], capture_output=True, text=True, timeout=20).stdout
        fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line and not line.startswith(" "))
        info["installed"] = fields.get("Status", "").endswith("install ok installed")
        info["version"] = fields.get("Version")
    except (OSError, subprocess.SubprocessError):
        pass
    from weasyprint.text import ffi
    info["loaded_by_weasyprint"] = ffi.harfbuzz_subset is not None
    info["subset_path_used"] = bool(ffi.harfbuzz_subset) and bool(ffi.harfbuzz.hb_version_atleast(4, 1, 0))
    return info


def environment() -> dict:
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu_count": os.cpu_count(), "cpu_model": cpu_model, "python": platform.python_version(),
            "platform": platform.platform(), "weasyprint": version("weasyprint"), "pydyf": version("pydyf"),
            "jinja2": version("jinja2"), "date": date.today().isoformat()}


def pin_one_core() -> int | None:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return core
    except (AttributeError, OSError):
        return None


# -- the two renderers -----------------------------------------------------------------------------


class Bare:
    """Bare WeasyPrint: one FontConfiguration and one parsed CSS, reused; the default URL fetcher."""

    def __init__(self):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration
        self.fonts = FontConfiguration()
        self.css = CSS(filename=str(ROOT / "base.css"), font_config=self.fonts)

    def render(self, html: str) -> bytes:
        from weasyprint import HTML
        return HTML(string=html, base_url=str(ROOT) + "/").write_pdf(
            stylesheets=[self.css], font_config=self.fonts, pdf_variant=PDF_VARIANT)


def find_three_pages(app, bare: Bare) -> tuple[int, list[int]]:
    """The paragraph count in the middle of the range that gives a 3-page final_response."""
    three = []
    for paragraphs in range(1, 30):
        html = app.html("final_response", "pl", context(decision_reasons=long_text(paragraphs)))
        pages = pages_of(bare.render(html))
        if pages == 3:
            three.append(paragraphs)
        if pages > 3:
            break
    if not three:
        raise SystemExit("no paragraph count gives a 3-page final_response")
    return three[len(three) // 2], three


def rate(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def throughput(app, bare: Bare, cases: dict, batches: int, batch: int) -> dict:
    """Median letters/s of app and bare per case; app and bare interleaved batch by batch."""
    result = {}
    for name, (letter_type, language, ctx, html, n) in cases.items():
        app_fn = lambda: app.render(letter_type, language, ctx)  # noqa: E731
        bare_fn = lambda: bare.render(html)  # noqa: E731
        for _ in range(3):  # warm-up
            app_fn()
            bare_fn()
        app_rates, bare_rates = [], []
        for b in range(batches):
            gc.collect()
            if b % 2:
                bare_rates.append(rate(bare_fn, n))
                app_rates.append(rate(app_fn, n))
            else:
                app_rates.append(rate(app_fn, n))
                bare_rates.append(rate(bare_fn, n))
        app_med, bare_med = statistics.median(app_rates), statistics.median(bare_rates)
        result[name] = {
            "app_per_s": round(app_med, 2), "bare_per_s": round(bare_med, 2),
            "app_ms": round(1000 / app_med, 2), "bare_ms": round(1000 / bare_med, 2),
            "ratio": round(app_med / bare_med, 3),
            "app_per_s_batches": [round(r, 2) for r in app_rates],
            "bare_per_s_batches": [round(r, 2) for r in bare_rates],
            "ratio_per_batch_median": round(statistics.median(a / b for a, b in zip(app_rates, bare_rates)), 3),
            "letters_per_batch": n,
        }
    return result


def app_overhead(app, cases: dict, n: int = 200) -> dict:
    """ms per call of the app's work outside WeasyPrint: Jinja (``html``) and the clause check."""
    from complaints_app.letters import plain_text
    out = {}
    for name, (letter_type, language, ctx, html, _) in cases.items():
        html_ms = 1000 / rate(lambda: app.html(letter_type, language, ctx), n)
        check_ms = 1000 / rate(lambda: app.missing_clauses(letter_type, language, ctx, plain_text(html)), n)
        out[name] = {"jinja_html_ms": round(html_ms, 3), "clause_check_ms": round(check_ms, 3)}
    return out


def memory(app, renders: int, three_paragraphs: int) -> dict:
    """RSS over ``renders`` app renders cycling letter types (1 and 3 pages) and languages."""
    variants = [("acknowledgement", lang, {"description": "Krótki opis: paczka dotarła uszkodzona."})
                for lang in ("pl", "en", "uk")]
    contexts = {}
    variants += [("final_response", lang, {"decision_reasons": long_text(three_paragraphs)})
                 for lang in ("pl", "en", "uk")]
    gc.collect()
    start = rss_mb()
    curve = {}
    t0 = time.perf_counter()
    for i in range(1, renders + 1):
        letter_type, language, extra = variants[i % len(variants)]
        key = (letter_type, language)  # the context as production makes it, once per variant: renders are timed
        if key not in contexts:
            contexts[key] = context(letter_type, language, **extra)
        app.render(letter_type, language, {**contexts[key], "reference": f"C-2026-{i:06d}"})
        if i % 100 == 0 or i == renders:
            gc.collect()
            curve[i] = round(rss_mb(), 1)
    elapsed = time.perf_counter() - t0
    first = curve.get(100, curve[min(curve)])
    last = curve[renders]
    return {"renders": renders, "rss_mb_start": round(start, 1), "rss_mb_at_100": first,
            "rss_mb_at_last": last, "rss_growth_mb_100_to_last": round(last - first, 1),
            "rss_mb_by_render": curve, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "seconds": round(elapsed, 1)}


def profile(app, cases: dict, n: int = 20) -> list[dict]:
    """Top functions by cumulative time in app renders of the 1-page letter (only with --profile)."""
    letter_type, language, ctx, _, _ = cases["1page"]
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        app.render(letter_type, language, ctx)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (filename, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():
        rows.append({"function": f"{Path(filename).parent.name}/{Path(filename).name}:{line}:{func}", "calls_per_render": round(calls / n, 1),
                     "cum_ms_per_render": round(cumtime * 1000 / n, 2),
                     "self_ms_per_render": round(tottime * 1000 / n, 2)})
    return sorted(rows, key=lambda r: -r["cum_ms_per_render"])[:25]


# -- main ------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--renders", type=int, default=1000, help="renders for the memory figure (default 1000)")
    parser.add_argument("--batches", type=int, default=7, help="timed batches per case (default 7)")
    parser.add_argument("--batch", type=int, default=20, help="1-page letters per batch (3-page: a third, min 3)")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of app 1-page renders")
    args = parser.parse_args(argv)

    core = pin_one_core()
    t_start = time.perf_counter()
    open_app()
    from complaints_app.domain.letter_templates import renderer

    app = renderer()
    bare = Bare()

    one_ctx = context("acknowledgement",
                      description="Paczka dotarła uszkodzona: pęknięta obudowa, brak ładowarki.")
    one_html = app.html("acknowledgement", "pl", one_ctx)
    paragraphs, three_range = find_three_pages(app, bare)
    three_ctx = context(decision_reasons=long_text(paragraphs))
    three_html = app.html("final_response", "pl", three_ctx)

    checks = {}
    for name, letter_type, ctx, html, expected in (("1page", "acknowledgement", one_ctx, one_html, 1),
                                                   ("3page", "final_response", three_ctx, three_html, 3)):
        app_pdf, app_html = app.render(letter_type, "pl", ctx)
        bare_pdf = bare.render(html)
        checks[name] = {
            "letter": f"{letter_type}/pl", "expected_pages": expected,
            "app_pages": pages_of(app_pdf), "bare_pages": pages_of(bare_pdf),
            "same_html": app_html == html,
            "app_pdf_bytes": len(app_pdf), "bare_pdf_bytes": len(bare_pdf),
            "pdfa_output_intent": has_output_intent(app_pdf) and has_output_intent(bare_pdf),
        }
        if not (checks[name]["app_pages"] == checks[name]["bare_pages"] == expected and checks[name]["same_html"]):
            raise SystemExit(f"page/HTML check failed: {checks[name]}")
    checks["3page"]["paragraphs"] = paragraphs
    checks["3page"]["paragraph_counts_giving_3_pages"] = three_range
    checks["3page"]["decision_reasons_chars"] = len(long_text(paragraphs))

    cases = {"1page": ("acknowledgement", "pl", one_ctx, one_html, args.batch),
             "3page": ("final_response", "pl", three_ctx, three_html, max(3, args.batch // 3))}
    hb = harfbuzz_subset_info()
    speed = throughput(app, bare, cases, args.batches, args.batch)
    overhead = app_overhead(app, cases)
    mem = memory(app, args.renders, paragraphs)

    report = {
        "one_page_per_s": speed["1page"]["app_per_s"],
        "three_page_per_s": speed["3page"]["app_per_s"],
        "bare_one_page_per_s": speed["1page"]["bare_per_s"],
        "bare_three_page_per_s": speed["3page"]["bare_per_s"],
        "ratio_1page": speed["1page"]["ratio"],
        "ratio_3page": speed["3page"]["ratio"],
        "rss_mb_at_100": mem["rss_mb_at_100"],
        "rss_mb_at_last": mem["rss_mb_at_last"],
        "rss_growth_mb": mem["rss_growth_mb_100_to_last"],
        "libharfbuzz_subset0": hb,
        "targets": TARGETS,
        "meets": {
            "ratio_1page": speed["1page"]["ratio"] >= TARGETS["ratio"],
            "ratio_3page": speed["3page"]["ratio"] >= TARGETS["ratio"],
            "one_page_per_s": speed["1page"]["app_per_s"] >= TARGETS["one_page_per_s"],
            "rss_growth_mb": mem["rss_growth_mb_100_to_last"] < TARGETS["rss_growth_mb"],
        },
        "throughput": speed,
        "app_overhead_outside_weasyprint": overhead,
        "memory": mem,
        "checks": checks,
        "pdf_variant": PDF_VARIANT,
        "pinned_core": core,
        "environment": environment(),
    }
    if args.profile:
        report["profile_1page"] = profile(app, cases)
    report["seconds"] = round(time.perf_counter() - t_start, 1)

    if args.json:
        print(json.dumps(report))
        return 0
    yes = lambda ok: "ok" if ok else "MISSED"  # noqa: E731
    rows = [
        ("app 1-page letters/s", f"{report['one_page_per_s']} ({speed['1page']['app_ms']} ms)",
         f">= {TARGETS['one_page_per_s']} {yes(report['meets']['one_page_per_s'])}"),
        ("bare 1-page letters/s", f"{report['bare_one_page_per_s']} ({speed['1page']['bare_ms']} ms)", ""),
        ("ratio 1-page app/bare", report["ratio_1page"], f">= {TARGETS['ratio']} {yes(report['meets']['ratio_1page'])}"),
        ("app 3-page letters/s", f"{report['three_page_per_s']} ({speed['3page']['app_ms']} ms)", ""),
        ("bare 3-page letters/s", f"{report['bare_three_page_per_s']} ({speed['3page']['bare_ms']} ms)", ""),
        ("ratio 3-page app/bare", report["ratio_3page"], f">= {TARGETS['ratio']} {yes(report['meets']['ratio_3page'])}"),
        ("app Jinja + clause check, 1p / 3p ms",
         f"{overhead['1page']['jinja_html_ms'] + overhead['1page']['clause_check_ms']:.2f} / "
         f"{overhead['3page']['jinja_html_ms'] + overhead['3page']['clause_check_ms']:.2f}", ""),
        (f"RSS MB at render 100 / {mem['renders']}", f"{mem['rss_mb_at_100']} / {mem['rss_mb_at_last']}", ""),
        ("RSS growth MB", mem["rss_growth_mb_100_to_last"],
         f"< {TARGETS['rss_growth_mb']} {yes(report['meets']['rss_growth_mb'])}"),
        ("libharfbuzz-subset0", f"installed={hb['installed']} {hb['version']} loaded={hb['loaded_by_weasyprint']}", ""),
        ("pages checked (pdfplumber)", f"1p={checks['1page']['app_pages']} 3p={checks['3page']['app_pages']} "
                                       f"({paragraphs} paragraphs)", ""),
        ("seconds", report["seconds"], ""),
    ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(str(r[1])) for r in rows)
    for figure, value, target in rows:
        print(f"{figure:<{width}}  {str(value):<{vwidth}}  {target}")
    if args.profile:
        print("\nprofile, app 1-page render (top by cumulative ms per render):")
        for row in report["profile_1page"]:
            print(f"  {row['cum_ms_per_render']:8.2f} cum {row['self_ms_per_render']:7.2f} self  "
                  f"{row['calls_per_render']:7.1f} calls  {row['function']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
