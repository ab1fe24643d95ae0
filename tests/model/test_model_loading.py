"""Loading the model (model.api.load_model): lazily, once, with each real stage told to the caller: the
configuration, every weight file read (bytes done of its size), the network put on its device; cancellable."""

from __future__ import annotations

import pytest

from model import api
from model.inference import engine, staff_reader


@pytest.fixture
def cold(monkeypatch):
    """As in a fresh process: nothing loaded yet (the loaded models are put back afterwards)."""
    monkeypatch.setattr(engine, "_cache", {})
    monkeypatch.setattr(staff_reader, "_cache", {})


def loading(src):
    calls = []
    loaded = api.load_model(src, progress=lambda d, n, m: calls.append((d, n, m)))
    return loaded, calls


def reads(calls, file):
    """The (done, total) of the reports while ``file`` was read."""
    return [(d, n) for d, n, m in calls if file in m]


def test_the_score_reader_loads_once_with_its_weights_read_by_bytes(cold):
    folder = api.find_weights(None)
    loaded, calls = loading(api.Modality.IMAGE)
    assert loaded
    messages = list(dict.fromkeys(m for _, _, m in calls))
    assert any("reading its configuration (reader.json)" in m for m in messages)
    steps = reads(calls, "reader.safetensors")
    size = (folder / "reader.safetensors").stat().st_size
    assert len(steps) > 10 and all(n == size for _, n in steps)          # determinate: bytes of the file
    done = [d for d, _ in steps]
    assert done == sorted(done) and done[0] == 0 and done[-1] == size      # from nothing to all of it
    assert loading(api.Modality.IMAGE) == (False, [])                      # loaded once per process


def test_the_transcriber_loads_in_stages_and_a_cancel_stops_it(cold):
    folder = api.find_weights(None)
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 5
    with pytest.raises(api.Cancelled):
        api.load_model(api.Modality.AUDIO, progress=lambda *a: None, should_stop=stop)
    assert not engine._cache                                                # nothing half-loaded is kept
    loaded, calls = loading(api.Modality.AUDIO)
    assert loaded
    stages = [m.split(": ", 1)[1] for m in dict.fromkeys(m for _, _, m in calls)]
    assert stages[0] == "reading its configuration (config.json)" and stages[1] == "building the network"
    assert stages[2].startswith("reading its weights (model.safetensors")
    assert stages[-1].startswith("putting it")
    steps = reads(calls, "model.safetensors")
    assert steps[-1] == ((folder / "model.safetensors").stat().st_size,) * 2
    assert loading(api.Modality.AUDIO) == (False, [])
    assert loading(api.Modality.MIDI) == (False, [])                        # no model step from MIDI
