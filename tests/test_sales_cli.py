"""``liveguard sale add``, ``import`` and ``today``: output shapes and exit codes (interface.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liveguard import cli
from liveguard.core.timekeeping import FixedClock
from tests.conftest import EVENING
from tests.fixtures_sales import Sample, shop_config, write_shopee_xlsx, write_tiktok_csv

CONFIG = shop_config()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "liveguard.toml").write_text(CONFIG)
    monkeypatch.setattr("liveguard.cli.context.SystemClock", lambda: FixedClock(EVENING))
    monkeypatch.delenv("LIVEGUARD_HOME", raising=False)
    return folder


def run(home: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["--home", str(home), "--lang", "en", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_sale_add_and_today_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        home,
        capsys,
        "sale",
        "add",
        "shopee",
        "Rp125.000",
        "--order",
        "WA-1",
        "--at",
        "2026-11-28T20:00",
    )
    assert code == 0 and "Rp125.000" in out and "WA-1" in out and "20.00 WIB" in out
    run(home, capsys, "sale", "add", "shopee", "100rb", "--at", "2026-11-27T20:00")
    run(home, capsys, "sale", "add", "tiktok", "50000", "--status", "cancelled")
    code, out, _ = run(home, capsys, "today", "--json")
    assert code == 0
    data = json.loads(out)
    assert (
        data["date"] == "2026-11-28"
        and data["timezone"] == "Asia/Jakarta"
        and data["currency"] == "IDR"
    )
    assert data["as_of"] == "2026-11-28T21:00:00+07:00"
    by_id = {c["id"]: c for c in data["channels"]}
    assert list(by_id) == ["tiktok", "shopee"]  # every configured channel, zeros included
    assert (
        by_id["shopee"].items()
        >= {"name": "Shopee", "orders": 1, "revenue": 125000, "cancelled": 0}.items()
    )
    assert by_id["shopee"]["vs_yesterday"] == 0.25
    assert (
        by_id["tiktok"].items()
        >= {"orders": 0, "revenue": 0, "cancelled": 1, "vs_yesterday": None}.items()
    )
    assert data["total"].items() >= {"orders": 1, "revenue": 125000}.items()


def test_today_table_and_other_dates(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(home, capsys, "sale", "add", "shopee", "1,2jt", "--at", "2026-11-27T10:00")
    code, out, _ = run(home, capsys, "today", "--date", "2026-11-27")
    assert code == 0
    lines = out.splitlines()
    assert "2026-11-27" in lines[0]
    assert any(
        line.startswith("Shopee") and "Rp1.200.000" in line and "New" in line for line in lines
    )
    code, _, err = run(home, capsys, "today", "--date", "27-11-2026")
    assert code == 64 and "YYYY-MM-DD" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sale", "add", "shopee", "lots"], "amount: not a number: 'lots'"),
        (["sale", "add", "lazada", "1000"], "unknown channel 'lazada'"),
        (["sale", "add", "shopee", "1000", "--at", "kemarin"], "time: not a date"),
    ],
)
def test_sale_add_errors_are_one_line(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(home, capsys, *args)
    assert code == 1 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (home / "state" / "orders").exists() or not any(
        (home / "state" / "orders").iterdir()
    )


def test_import_json_all_or_nothing_then_skip(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_shopee_xlsx(
        tmp_path / "orders.xlsx",
        [
            Sample("S1", "28/11/2026 19.30", "1.250.000", "Selesai", lines=2),
            Sample("S2", "28/11/2026 19.31", "abc", "Selesai"),
        ],
    )
    code, out, _ = run(home, capsys, "import", str(path), "--json")
    assert code == 1
    data = json.loads(out)
    assert data == {
        "file": "orders.xlsx",
        "format": "shopee",
        "channel": "shopee",
        "dry_run": False,
        "orders_added": 0,
        "orders_updated": 0,
        "orders_unchanged": 0,
        "rows_read": 3,
        "rows_rejected": [{"row": 4, "error": "Total Pembayaran: not a number: 'abc'"}],
        "rows_skipped": [],
    }
    code, out, _ = run(home, capsys, "import", str(path), "--json", "--dry-run", "--skip-bad-rows")
    assert code == 0 and json.loads(out)["dry_run"] is True and json.loads(out)["orders_added"] == 1
    code, out, _ = run(home, capsys, "import", str(path), "--json", "--skip-bad-rows")
    assert code == 0 and json.loads(out)["orders_added"] == 1
    code, out, _ = run(home, capsys, "import", str(path), "--json", "--skip-bad-rows")
    assert json.loads(out)["orders_unchanged"] == 1 and json.loads(out)["orders_added"] == 0


def test_import_text_output_lists_bad_rows(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_tiktok_csv(
        tmp_path / "t.csv", [Sample("1", "28/11/2026 20:00:00", "??", "Completed")]
    )
    code, out, err = run(home, capsys, "import", str(path))
    assert code == 1 and out == ""
    assert "t.csv: row 3: Order Amount: not a number: '??'" in err
    assert "nothing imported: 1 bad rows" in err


def test_import_generic_csv_with_map(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wa.csv"
    path.write_text("Nota;Tanggal;Nominal\nWA-9;28/11/2026 09.00;Rp 75.000\n", encoding="utf-8-sig")
    args = [
        "import",
        str(path),
        "--format",
        "csv",
        "--channel",
        "shopee",
        "--map",
        "id=Nota",
        "--map",
        "created=Tanggal",
        "--map",
        "amount=Nominal",
    ]
    code, out, _ = run(home, capsys, *args)
    assert code == 0 and "1 added" in out
    code, _, err = run(home, capsys, "import", str(path), "--map", "nota")
    assert code == 64 and "FIELD=COLUMN" in err


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["import"], 64),
        (["import", "x.csv", "--format", "ods"], 64),
        (["sale", "add", "shopee"], 64),
        (["sale", "add", "shopee", "1", "--status", "lunas"], 64),
    ],
)
def test_usage_errors(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int
) -> None:
    with pytest.raises(SystemExit) as info:
        run(home, capsys, *args)
    assert info.value.code == code


def test_a_real_process_never_shows_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text(CONFIG)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
    result = subprocess.run(
        [sys.executable, "-m", "liveguard", "--home", str(home), "import", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("liveguard: ") and "not a readable xlsx" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_compacts_days_past_retention(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(home, capsys, "sale", "add", "shopee", "90.000", "--at", "2026-10-01T12:00")
    assert code == 0
    assert not (home / "state" / "orders" / "2026-10-01.json").exists()
    assert (home / "state" / "history" / "2026-10.json").exists()
    code, out, _ = run(home, capsys, "today", "--date", "2026-10-01", "--json")
    assert json.loads(out)["total"]["revenue"] == 90_000
