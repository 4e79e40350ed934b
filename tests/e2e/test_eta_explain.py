"""`proofs explain` on a proved policy lemma of the example project states its model–reality margin:
η_lo (the lemma holds in every environment that close to the model) and the environment that
breaks it at η_hi, both checked by the kernel when the certificate was accepted."""

import json
from fractions import Fraction

from tests.e2e.conftest import ROOT


def test_explain_states_the_margin_and_the_breaking_environment(proofs):
    cert = json.loads((ROOT / "certificates" / "cliff.walk-policy.json").read_text())
    eta = cert["values"]["eta"]
    assert 0 < Fraction(eta["lo"]) < Fraction(eta["hi"]) <= 1 and len(eta["environment"]) == 6
    out = proofs("explain", "cliff.walk-policy")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "Model–reality margin (checked by the kernel)" in text, text
    assert f"within total variation {float(Fraction(eta['lo'])):.6g}" in text, text
    assert "breaks it; where it differs from the model:" in text and "step 0, mid: walk -> {" in text, text


def test_explain_states_the_margin_of_a_safety_certificate(proofs):
    eta = json.loads((ROOT / "certificates" / "careful.safe.json").read_text())["values"]["eta"]
    assert 0 < Fraction(eta["lo"]) < Fraction(eta["hi"])
    text = proofs("explain", "careful.safe").stdout
    assert "Model–reality margin (checked by the kernel): the policy satisfies Φ in every environment" in text, text
    assert "breaks it; where it differs from the model:" in text, text
