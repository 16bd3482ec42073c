"""Sample data for chuyencan: a school year of weekly workbooks, police extracts and the truth.

    from chuyencan_dev.synth import generate
    summary = generate(Path("var/sample"), seed=7, first_week=date(2025, 2, 14), last_week=date(2025, 4, 4))

See README.md in this package for the output layout and the truth files.
"""

from chuyencan_dev.synth.generate import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
