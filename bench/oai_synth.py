"""Synthetic OAI-PMH harvests in arXiv's real `ListRecords` format (metadataPrefix=arXiv).

Used by bench/ingest.py and by the kill-and-resume test; the layout copies the recorded
responses in tests/fixtures/arxiv_oai_pmh, including the line-wrapped titles and abstracts.
"""

from __future__ import annotations

import random
import textwrap
from datetime import date, timedelta
from xml.sax.saxutils import escape

WORDS = (
    "model learning neural network training data language transformer attention graph "
    "optimization quantum field theory energy spectrum lattice gauge symmetry inference "
    "bayesian stochastic gradient convergence robust adversarial sparse representation "
    "diffusion generative image video speech retrieval reasoning agent policy reward "
    "reinforcement control dynamics manifold topology algebra operator boundary estimate "
    "superconducting vortex magnetic spin phase transition entropy thermal scattering "
    "galaxy cosmology dark matter halo redshift survey telescope detector measurement"
).split()
FIRST = "Ana Bo Chen Dmitri Eva Farah Gil Hiro Ines Jun Kofi Lena Mika Nia Omar Priya Quinn Rui Sara Tomas".split()
# Surnames built from syllables: about 27,000 distinct ones, so that most authors are new, as in
# a real harvest.
SYLLABLES = (
    "ka lo mi ne sa to ru vi de ha ber man son ova ski ez ito ng chen ric dal fen gor jin las mor".split()
)
CATEGORIES = (
    "cs.LG cs.CL cs.CV cs.AI stat.ML hep-th hep-ph quant-ph cond-mat.supr-con astro-ph.CO math.OC".split()
)

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>2026-11-28T12:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXiv">http://export.arxiv.org/oai2</request>
<ListRecords>
"""


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def _record(rng: random.Random, number: int) -> str:
    arxiv_id = f"{2501 + number // 100_000}.{number % 100_000:05d}"  # five digits per month
    created = date(2025, 1, 1) + timedelta(days=number % 28)
    authors = "".join(
        f"<author><keyname>{_surname(rng)}</keyname><forenames>{rng.choice(FIRST)}</forenames></author>"
        for _ in range(rng.randint(1, 8))
    )
    title = "\n  ".join(textwrap.wrap(_sentence(rng, rng.randint(6, 14)).capitalize(), 70))
    abstract = "\n".join(
        textwrap.wrap(
            ". ".join(_sentence(rng, rng.randint(12, 25)).capitalize() for _ in range(rng.randint(5, 9)))
            + ".",
            78,
        )
    )
    categories = " ".join(dict.fromkeys(rng.choice(CATEGORIES) for _ in range(rng.randint(1, 3))))
    extra = ""
    if number % 3 == 0:
        extra += f"<comments>{rng.randint(5, 40)} pages, {rng.randint(1, 12)} figures</comments>"
    if number % 5 == 0:
        extra += f"<journal-ref>Phys. Rev. B {rng.randint(50, 110)}, {rng.randint(1000, 9999)} (2025)</journal-ref>"
        extra += f"<doi>10.1103/PhysRevB.{number}</doi>"
    updated = f"<updated>{created + timedelta(days=30)}</updated>" if number % 4 == 0 else ""
    return f"""<record>
<header>
 <identifier>oai:arXiv.org:{arxiv_id}</identifier>
 <datestamp>{created}</datestamp>
 <setSpec>cs</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ http://arxiv.org/OAI/arXiv.xsd">
 <id>{arxiv_id}</id><created>{created}</created>{updated}<authors>{authors}</authors><title>{escape(title)}</title><categories>{categories}</categories>{extra}<license>http://creativecommons.org/licenses/by/4.0/</license><abstract>  {escape(abstract)}
</abstract></arXiv>
</metadata>
</record>
"""


def pages(total: int, page_size: int, *, seed: int = 7, token_prefix: str = "synth") -> list[bytes]:
    """`total` records split into pages, each but the last ending with a resumption token."""
    rng = random.Random(seed)
    out = []
    for start in range(0, total, page_size):
        body = "".join(_record(rng, number) for number in range(start + 1, min(start + page_size, total) + 1))
        end = start + page_size
        token = (
            f'<resumptionToken cursor="{start}" completeListSize="{total}">{token_prefix}|{end}</resumptionToken>\n'
            if end < total
            else ""
        )
        out.append((HEADER + body + token + "</ListRecords>\n</OAI-PMH>\n").encode())
    return out
