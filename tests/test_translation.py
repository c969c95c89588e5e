"""Translation of DNA in the six reading frames, and the most open frame of a gene."""

from __future__ import annotations

import random

import pytest

from seqclass.sequence.alphabets import reverse_complement
from seqclass.sequence.translation import FRAMES, coding_protein, most_open_frame, translate


def test_standard_code_frames_and_ambiguity():
    assert translate("ATGGCCTAAGGN") == "MA*X"  # a codon with an ambiguity code is X
    assert translate("ATGAAATTTTGA") == "MKF*"
    assert translate("ATGAAATTTTGA", 2) == "*NF"  # TGA AAT TTT; the last two bases fill no codon
    assert translate("ATGAAATTTTGA", -1) == "SKFH"  # TCA AAA TTT CAT
    assert translate("ATGAAATTTTGA", -3) == translate(reverse_complement("ATGAAATTTTGA")[2:])
    assert translate("AT") == ""
    # every codon of the standard table, in TCAG order
    bases = "TCAG"
    codons = "".join(a + b + c for a in bases for b in bases for c in bases)
    assert translate(codons) == "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"


def test_frame_outside_the_six_is_refused():
    with pytest.raises(ValueError, match="frame must be one of"):
        translate("ATG", 0)


def test_most_open_frame_finds_the_coding_frame_on_either_strand():
    rng = random.Random(3)
    sense = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if translate(a + b + c) != "*"]
    gene = "ATG" + "".join(rng.choice(sense) for _ in range(120)) + "TAA"  # no stop but the last
    frame, protein = most_open_frame(gene)
    assert frame == 1 and protein.endswith("*") and protein[:-1].count("*") == 0
    assert coding_protein(gene) == protein[:-1] == coding_protein(reverse_complement(gene))
    assert most_open_frame(reverse_complement(gene))[0] == -1
    assert most_open_frame("C" + gene)[0] == 2
    assert set(FRAMES) == {1, 2, 3, -1, -2, -3}
