"""The registry file (studio/models.toml): its schema, the operator's overrides, and plain errors for bad entries."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from studio import catalogue as cat
from studio.catalogue import DEFAULT_CATALOGUE, Catalogue, RegistryError, startup_problem
from studio.registry import MAIN_FILE, RATIOS, SIZES

ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_file_follows_its_schema() -> None:
    data = tomllib.loads(MAIN_FILE.read_text())
    assert data["schema"] == 1 and list(data["models"]) == ["nb21", "pro", "lite", "flash2", "flash"]
    for key, spec in data["models"].items():
        assert set(spec["ratios"]) <= set(RATIOS) and set(spec["sizes"]) <= set(SIZES), key
        assert set(spec["tokens_per_image"]) >= set(spec["sizes"]), key
        assert spec["lanes"]["now"] == 1.0 and set(spec["prices"]) >= {"image_output", "text_input", "text_output"}
    assert [m.key for m in DEFAULT_CATALOGUE.offered()] == ["nb21", "pro", "lite"]
    assert DEFAULT_CATALOGUE.default().model_id == "gemini-nano-banana-2.1"


def test_a_malformed_registry_file_names_itself_and_the_key(tmp_path) -> None:
    from studio import registry
    from studio.registry import check_fields

    with pytest.raises(RegistryError) as caught:
        check_fields(registry.MAIN_NAME, "nb21", {"sizes": ["1K", "3K"]}, {})
    assert str(caught.value) == "studio/models.toml: [models.nb21] sizes: '3K' is not a size (use 512, 1K, 2K, 4K)"
    broken = tmp_path / "models.toml"
    broken.write_text(MAIN_FILE.read_text().replace('sizes = ["1K"]                               # "Supported',
                                                    'sizes = ["2K"]  # "Supported', 1))
    with pytest.raises(RegistryError) as caught:
        registry.load({}, env={}, main_file=broken)
    assert str(caught.value) == f"{broken}: [models.lite] default_size: '1K' is not one of its sizes"
    pixels = tmp_path / "pixels.toml"
    pixels.write_text(MAIN_FILE.read_text().replace('"21:9" = [1584, 672]', '"21:9" = [1584]', 1))
    with pytest.raises(RegistryError, match=r"\[pixel_tables.pro_1k\] 21:9: must be \[width, height\]"):
        registry.load({}, env={}, main_file=pixels)


def test_the_december_2026_lineup() -> None:
    nb21, lite, pro = cat.NB21, cat.LITE, cat.PRO
    assert len(nb21.ratios) == 14 and nb21.sizes == ("1K", "2K", "4K") and "512" not in nb21.sizes
    assert nb21.thinking_levels == ("minimal", "medium", "high") and nb21.default_thinking_level == "medium"
    assert nb21.grounding == ("web_search", "image_search") and nb21.input_kinds == ("image", "pdf", "video")
    assert nb21.price_per_image("1K") == 0.0336 and nb21.usd_per_input_token * 1e6 == 1.5
    assert round(nb21.usd_per_text_token * 1e6, 2) == 7.5
    assert len(lite.ratios) == 14 and lite.sizes == ("1K",) and lite.thinking_levels == ("minimal", "high")
    assert lite.grounding == () and not lite.supports_search
    assert pro.ratios == cat.TEN_RATIOS and pro.price_per_image("4K") == 0.24 and pro.pixel_size("21:9", "4K") == (6336, 2688)
    for retired in (cat.FLASH2, cat.FLASH):
        assert not retired.offered and DEFAULT_CATALOGUE.successor_for(retired) is nb21
    assert cat.FLASH2.retirement_note(nb21) == ("Nano Banana 2 was retired by Google on 2026-10-29; "
                                                "this runs on Nano Banana 2.1.")
    assert DEFAULT_CATALOGUE.successor_for(pro) is pro
    assert DEFAULT_CATALOGUE.successor_for(DEFAULT_CATALOGUE.resolve("gemini-9-canvas")) is None


def test_prices_per_lane_come_from_the_registry() -> None:
    nb21 = cat.NB21
    assert nb21.lanes == ("now", "batch", "flex") and cat.FLASH2.lanes == ("now", "batch")
    assert nb21.price_per_image("2K", "flex") == round(1680 * 30e-6 * 0.5, 4)
    assert nb21.estimate_cost("1K", 2, references=1, lane="batch") == round((0.0336 + 0.0011) * 0.5 * 2, 4)
    now = nb21.cost_from_usage("1K", 100, 1120, 300, 1)
    assert nb21.cost_from_usage("1K", 100, 1120, 300, 1, lane="flex") == round(now * 0.5, 6)


def test_no_gemini_id_is_spelled_in_python() -> None:
    import re
    for folder in ("studio", "components", "app_pages"):
        for path in (ROOT / folder).rglob("*.py"):
            assert not re.search(r"[\"']gemini-", path.read_text()), path


def test_secrets_tables_override_and_add_models(monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_MODELS_FILE", raising=False)
    config = {"nb21": {"sizes": ["1K", "2K"], "prices": {"image_output": 24.0}},
              "canvas": {**_full_entry(), "label": "Canvas", "model_id": "gemini-5-canvas"},
              "pro": "gemini-3-pro-image-002"}
    catalogue = Catalogue.from_config(config)
    assert catalogue.by_key("nb21").sizes == ("1K", "2K")
    assert catalogue.by_key("nb21").usd_per_input_token * 1e6 == 1.5, "the other prices are kept"
    assert catalogue.by_key("nb21").price_per_image("1K") == round(1120 * 24e-6, 4)
    assert catalogue.resolve("gemini-5-canvas").label == "Canvas"
    assert catalogue.by_key("pro").model_id == "gemini-3-pro-image-002", "the old ID override still works"
    assert [m.key for m in catalogue.offered()] == ["nb21", "pro", "lite", "canvas"]


def test_the_old_env_overrides_still_work(monkeypatch) -> None:
    monkeypatch.setenv("STUDIO_MODEL_PRO", "gemini-3-pro-image-003")
    assert Catalogue.from_config({}).by_key("pro").model_id == "gemini-3-pro-image-003"
    assert Catalogue.from_config({"STUDIO_MODEL_PRO": "x-4"}).by_key("pro").model_id == "x-4", "secrets win"


def test_a_models_file_named_by_env_overrides_and_can_change_the_default(tmp_path, monkeypatch) -> None:
    extra = tmp_path / "ops-models.toml"
    extra.write_text('[models.lite]\ndefault = true\nlabel = "Lite (ops)"\n')
    monkeypatch.setenv("STUDIO_MODELS_FILE", str(extra))
    catalogue = Catalogue.from_config({})
    assert catalogue.default().key == "lite" and catalogue.by_key("lite").label == "Lite (ops)"
    assert not catalogue.by_key("nb21").is_default


@pytest.mark.parametrize(("entry", "message"), [
    ({"sizes": ["3K"]}, "[models.nb21] sizes: '3K' is not a size (use 512, 1K, 2K, 4K)"),
    ({"ratios": ["7:3"]}, "[models.nb21] ratios: '7:3' is not a ratio"),
    ({"status": "sunset"}, "[models.nb21] status: 'sunset' is not a status (use ga, preview, deprecated, retired)"),
    ({"lanes": {"express": 0.2}}, "[models.nb21] lanes: 'express' is not a lane (use now, batch, flex)"),
    ({"prices": {"image_output": "cheap"}}, "[models.nb21] prices.image_output: must be a number"),
    ({"prices": 30}, "[models.nb21] prices: must be a table"),
    ({"thinking_levels": ["ultra"]}, "[models.nb21] thinking_levels: 'ultra' is not a thinking level"),
    ({"default_size": "4K", "sizes": ["1K"]}, "[models.nb21] default_size: '4K' is not one of its sizes"),
    ({"successor": "nb99"}, "[models.nb21] successor: 'nb99' is not a model key"),
    ({"colour": "yellow"}, "[models.nb21] colour: is not a registry field"),
])
def test_a_malformed_entry_is_one_plain_error_naming_the_file_and_key(tmp_path, monkeypatch, entry, message):
    monkeypatch.delenv("STUDIO_MODELS_FILE", raising=False)
    with pytest.raises(RegistryError) as caught:
        Catalogue.from_config({"nb21": entry})
    assert str(caught.value).startswith("Streamlit secrets: ") and message in str(caught.value)
    extra = tmp_path / "bad.toml"
    extra.write_text("[models.nb21]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in entry.items()))
    monkeypatch.setenv("STUDIO_MODELS_FILE", str(extra))
    problem = startup_problem({}) or ""
    assert problem.startswith(f"The model registry cannot be used: {extra}: ") and message in problem


def test_a_new_model_missing_a_key_is_named(monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_MODELS_FILE", raising=False)
    entry = _full_entry()
    del entry["tokens_per_image"]
    problem = startup_problem({"canvas": {**entry, "label": "Canvas", "model_id": "gemini-5-canvas"}})
    assert problem == "The model registry cannot be used: Streamlit secrets: [models.canvas]: missing key " \
                      "'tokens_per_image'"
    assert startup_problem({}) is None


def test_a_secrets_entry_that_is_neither_a_table_nor_an_id_is_refused(monkeypatch) -> None:
    monkeypatch.delenv("STUDIO_MODELS_FILE", raising=False)
    assert startup_problem({"pro": 3}) == ("The model registry cannot be used: Streamlit secrets: [models.pro]: must "
                                           "be a table of fields (or a model ID in quotes)")


def test_bad_toml_names_the_file(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[models.nb21\nsizes = [")
    monkeypatch.setenv("STUDIO_MODELS_FILE", str(bad))
    assert f"{bad}: not valid TOML" in (startup_problem({}) or "")


def _full_entry() -> dict:
    return {"label": "x", "model_id": "x", "status": "ga", "ratios": ["1:1", "16:9"], "sizes": ["1K"],
            "default_size": "1K", "pixel_tables": ["pro_1k"], "max_references": 4, "max_objects": 2,
            "max_people": 2, "recommended_references": 4, "tokens_per_image": {"1K": 1000},
            "prices": {"image_output": 20.0}, "lanes": {"now": 1.0}}


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'{k} = {_toml(v)}' for k, v in value.items()) + " }"
    return str(value)
