"""The command line itself: --version, --help of every step, usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import seqclass
from seqclass.cli import STEPS, main


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"seqclass {seqclass.__version__}"


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for step in ("build", "split", "chunk", "train", "evaluate", "predict"):
        assert step in out


@pytest.mark.parametrize("step", STEPS)
def test_step_help(capsys, step):
    with pytest.raises(SystemExit) as info:
        main([step, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: seqclass {step}")


def test_train_help_lists_family_options(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "kmer-logreg options" in out and "gc-logreg options" in out and "--kmer-size " in out


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["build"])  # --out missing
    assert info.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_unknown_step(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_console_script_module():
    """`python -m seqclass --version` works the way the installed `seqclass` script does."""
    proc = subprocess.run([sys.executable, "-m", "seqclass", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"seqclass {seqclass.__version__}"


def test_versions_without_a_gpu_does_not_import_torch(tmp_path):
    """`seqclass versions` ends every pipeline task: on a machine without an NVIDIA device it
    reads torch's version from its files instead of importing the CUDA build (1.5 s a task)."""
    code = ("import sys; from seqclass.steps import versions; "
            "print(versions.torch_versions(), 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    from seqclass.steps import versions
    found = versions.torch_versions(devices=tmp_path)  # a /dev without nvidia nodes
    assert found["cuda"] == "none" and found["torch"]
    if not list(Path("/dev").glob("nvidia[0-9]*")):
        assert proc.stdout.strip().endswith("False")


def test_deprecated_flags_still_work_for_one_release(pipeline, tmp_path, capsys):
    """`train --model` (now --family) and `--k` (now --kmer-size) set the same options, with a
    warning line naming the new flag."""
    old, new = tmp_path / "old", tmp_path / "new"
    assert main(["train", "--dataset", str(pipeline.split), "--model", "kmer-logreg",
                 "--k", "3", "--out", str(old)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert "seqclass train: --model is deprecated and will be removed in the next release; " \
           "use --family" in lines, lines
    assert "seqclass train: --k is deprecated and will be removed in the next release; " \
           "use --kmer-size" in lines, lines
    assert main(["train", "--dataset", str(pipeline.split), "--family", "kmer-logreg",
                 "--kmer-size", "3", "--out", str(new)]) == 0
    for name in ("config.json", "model.safetensors"):
        assert (old / name).read_bytes() == (new / name).read_bytes(), name


def test_deprecated_flags_are_hidden_from_help(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--family" in out and "--kmer-size" in out
    assert "--model" not in out and "--k " not in out and "--k\n" not in out


@pytest.mark.parametrize("flags", [["--family", "cnn", "--model", "kmer-logreg"],
                                   ["--model", "kmer-logreg", "--family", "kmer-logreg"],
                                   ["--k", "3", "--kmer-size", "4"]])
def test_a_flag_and_its_deprecated_name_together_are_refused(pipeline, tmp_path, capsys, flags):
    with pytest.raises(SystemExit) as info:
        main(["train", "--dataset", str(pipeline.split), *flags, "--out", str(tmp_path / "m")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "set the same option; give only --" in err, err
    assert not (tmp_path / "m").exists()
