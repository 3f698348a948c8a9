"""Progress in a real Jupyter kernel: widgets with ipywidgets (threads and a local cluster), text without."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

WIDGET = "application/vnd.jupyter.widget-view+json"
LABEL = "toy: 6 exposures"


def _cell(source: str):
    return nbformat.v4.new_code_cell(source)


def _widget_texts(notebook, output) -> list[str]:
    """Every value and description in the widget an output shows and in its children (stored widget state)."""
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    todo, texts = [output["data"][WIDGET]["model_id"]], []
    while todo:
        state = states[todo.pop()]["state"]
        todo += [child.removeprefix("IPY_MODEL_") for child in state.get("children", [])]
        texts += [str(state[name]).replace("\u2007", " ") for name in ("value", "max", "description") if name in state]
    return texts


def _stream(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def test_widgets_in_a_kernel_with_ipywidgets_and_text_without(toy_exposures, tmp_path):
    folder, here = toy_exposures[0].parent, Path(__file__).parent
    run = f"jwstlazy.run(ToyPipeline(), [{str(folder)!r}], {str(tmp_path)!r} + '/{{}}', scheduler={{!r}}{{}})"
    notebook = nbformat.v4.new_notebook(cells=[
        _cell(f"import sys\nsys.path.insert(0, {str(here)!r})\nimport jwstlazy\nfrom toy_pipeline import ToyPipeline"),
        _cell(run.format("threads", "threads:2", "")),
        _cell(run.format("local", "local:1", ", memory_limit='1GB'")),
        _cell("sys.modules['ipywidgets'] = None  # as if ipywidgets were not installed\n"
              + run.format("text", "threads:2", "")),
        _cell(run.format("quiet", "threads:2", ", progress=False")),
    ])  # fmt: skip
    resources = {"metadata": {"path": str(tmp_path)}}
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources=resources).execute()
    _, threads, cluster, text, quiet = notebook.cells
    for cell in (threads, cluster, text, quiet):
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
    assert len(list((tmp_path / "quiet").iterdir())) == 12

    # threads: a tqdm.notebook widget, labelled, with tasks done / total and a rate, no text bar
    widgets = [o for o in threads.outputs if WIDGET in o.get("data", {})]
    assert len(widgets) == 1 and "100%" not in _stream(threads)
    shown = " ".join(_widget_texts(notebook, widgets[0]))
    assert f"{LABEL}: 100%" in shown and "task/s" in shown
    total = next(text.split("/")[1].split()[0] for text in _widget_texts(notebook, widgets[0]) if "task/s" in text)
    assert f" {total}/{total} " in shown and int(total) > 12  # every task of the graph, not only the writes

    # a local cluster: a tqdm.notebook widget of exposures finished, labelled, over the whole run
    widgets = [o for o in cluster.outputs if WIDGET in o.get("data", {})]
    assert len(widgets) == 1 and "100%" not in _stream(cluster)
    shown = " ".join(_widget_texts(notebook, widgets[0]))
    assert f"{LABEL}: 100%" in shown and " 6/6 " in shown and "exposure" in shown

    # without ipywidgets: the text bar in the cell's output, no widget; progress=False: neither
    assert not [o for o in text.outputs if WIDGET in o.get("data", {})]
    assert f"{LABEL}: 100%" in _stream(text) and f"{total}/{total}" in _stream(text)
    assert not [o for o in quiet.outputs if WIDGET in o.get("data", {})] and "100%" not in _stream(quiet)
