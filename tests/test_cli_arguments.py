"""Arguments a researcher gets wrong: one clear line on standard error and exit status 2, not
results numbered from -4, a silent change of what was asked, or a traceback."""

import pytest

from paperroute import cli


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["search", "decoding", "--offset", "-5"], "--offset: expected 0 or more, got -5"),
        (["search", "decoding", "--limit", "0"], "--limit: expected 1 or more, got 0"),
        (["related", "2411.00801", "--limit", "0"], "--limit: expected 1 or more, got 0"),
        (["related", "2411.00801", "--limit", "-1"], "--limit: expected 1 or more, got -1"),
    ],
)
def test_counts_out_of_range_are_refused(args, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.slow
def test_export_to_a_file_it_cannot_write_says_so_in_one_line(cli, tmp_path):
    target = tmp_path / "missing" / "papers.jsonl"
    result = cli("export", "-o", str(target))
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        f"paperroute: export: cannot write {target}: No such file or directory"
    ]
