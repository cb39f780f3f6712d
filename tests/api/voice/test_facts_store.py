import json
import socket
from pathlib import Path

import pytest

from api.voice.facts.model import Fact
from api.voice.facts.store import load_facts


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"the fact store tried to reach the network: {args}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Fact], Path]:
    data_dir = tmp_path_factory.mktemp("facts-data")
    with pytest.MonkeyPatch.context() as patch:  # any connection attempt fails the build
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket, "create_connection", _no_network)
        patch.setattr(socket, "getaddrinfo", _no_network)
        facts, report = load_facts(data_dir)
    assert not report.cached and report.path is not None and report.path.is_file()
    return facts, data_dir


def test_store_is_built_from_the_packages_without_network(
    built: tuple[list[Fact], Path],
) -> None:
    facts, _ = built
    kinds: dict[str, int] = {}
    for fact in facts:
        kinds[fact.id.partition(":")[0]] = kinds.get(fact.id.partition(":")[0], 0) + 1
    assert len(facts) >= 5000, kinds
    assert kinds["codata"] >= 300 and kinds["element"] >= 118 * 5 and kinds["isotope"] >= 3000
    assert kinds["curated"] >= 100 and kinds["unit"] >= 100
    assert len({f.id for f in facts}) == len(facts)
    for fact in facts:
        assert fact.source and fact.aliases and fact.name, fact.id
    by_id = {f.id: f for f in facts}
    planck = by_id["codata:planck-constant"]
    assert (planck.value, planck.unit, planck.uncertainty) == (6.62607015e-34, "J s", 0.0)
    assert "planck constant" in planck.aliases and "CODATA" in planck.source
    electron = by_id["codata:electron-mass"]
    assert electron.unit == "kg" and electron.uncertainty > 0  # measured, not defined
    assert by_id["element:carbon:atomic-number"].value == 6
    assert "atomic number of carbon" in by_id["element:carbon:atomic-number"].aliases
    assert by_id["element:iron:melting-point"].unit == "K"
    assert by_id["unit:mi:ft"].value == 5280
    water = by_id["curated:water-boiling-point"]
    assert (water.value, water.unit) == (100.0, "degC") and "CRC" in water.source


def test_second_start_reads_the_cache(built: tuple[list[Fact], Path]) -> None:
    facts, data_dir = built
    again, report = load_facts(data_dir)
    assert report.cached and again == facts
    assert len(list((data_dir / "facts").glob("store-*.json"))) == 1


def test_an_unreadable_cache_is_rebuilt(built: tuple[list[Fact], Path], tmp_path: Path) -> None:
    facts, data_dir = built
    cache = next((data_dir / "facts").glob("store-*.json"))
    target = tmp_path / "facts" / cache.name
    target.parent.mkdir()
    target.write_text("{not json")
    rebuilt, report = load_facts(tmp_path)
    assert not report.cached and len(rebuilt) == len(facts)
    assert json.loads(target.read_text())["facts"]
