"""The example notebook runs from top to bottom and shows progress and a plot."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parents[1] / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_runs_and_shows_progress():
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    text = "".join(output.get("text", "") for output in outputs if output.get("output_type") == "stream")
    assert "100%" in text and "task" in text or any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert "wrote " in text and "products written" in text
    assert "xarray.Dataset" in str([o.get("data", {}).get("text/plain", "") for o in outputs])
    assert any("image/png" in output.get("data", {}) for output in outputs)
