"""Exposure: the serving settings are pinned, and nothing in our code loads pickles, runs
user-supplied code, renders raw HTML or accepts uploads.

* ``.streamlit/config.toml``, as a TOML file and as Streamlit itself reads it (a key
  Streamlit does not know would be silently ignored, so unknown keys fail here too).
* A static walk (``ast``) over every module of ``explorer/``, ``ui/``, ``pages/`` and
  ``streamlit_app.py``. The checker is tested on snippets that break each rule, so it cannot
  pass by finding nothing.
* ONNX Runtime's own telemetry is off whenever ``explorer`` is imported.

The browser side (no traceback shown, traceback logged, loopback only) is in
``tests/browser/test_browser_exposure.py``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass

import pytest
from conftest import ROOT

CONFIG = ROOT / ".streamlit" / "config.toml"
SOURCES = sorted(
    [
        *ROOT.joinpath("explorer").rglob("*.py"),
        *ROOT.joinpath("ui").rglob("*.py"),
        *ROOT.joinpath("pages").glob("*.py"),
        ROOT / "streamlit_app.py",
    ]
)

# Every [server], [runner], [browser] and [client] setting, with why it is pinned (README, "Serving a class").
PINNED = {
    "server.address": "127.0.0.1",  # loopback only: serving a class is a deliberate step
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.fileWatcherType": "none",  # served, not developed: no rerun prompts mid-class, no watcher thread
    "server.runOnSave": False,
    "server.maxUploadSize": 1,  # MB; there is no upload at all (see the static check)
    "server.enableStaticServing": False,
    "server.enableAgentApi": False,  # experimental HTTP/MCP driver of the app
    "runner.postScriptGC": False,  # a full gc.collect() after every run costs 0.3-0.5 s of CPU under the GIL
    "browser.gatherUsageStats": False,
    "client.showErrorDetails": "none",  # NOT false: in 1.67 false means "stacktrace"
    "client.showErrorLinks": False,
    "client.showSidebarNavigation": False,
    "client.toolbarMode": "viewer",
}


def test_config_toml_pins_every_serving_setting():
    settings = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    flat = {
        f"{section}.{key}": value
        for section, values in settings.items()
        if section != "theme"
        for key, value in values.items()
    }
    assert flat == PINNED  # nothing missing, nothing unpinned


def test_streamlit_reads_those_settings_from_the_file():
    """Streamlit's own parser, in a fresh process started where ``streamlit run`` is started."""
    code = (
        "import json\nfrom streamlit import config\nconfig.get_config_options(force_reparse=True)\n"
        "options = config._config_options\n"
        f"keys = {list(PINNED)!r}\n"
        "print(json.dumps({k: [config.get_option(k), options[k].where_defined] for k in keys}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    for key, expected in PINNED.items():
        value, where = seen[key]
        assert value == expected, key
        assert where == str(CONFIG), (key, where)  # from our file, not a default that happens to match


def test_show_error_details_none_hides_message_type_and_trace():
    """What 1.67 does with each value: only "none" hides the traceback *and* the message."""
    from streamlit import config
    from streamlit.elements import exception

    shown = {}
    original = config.get_option("client.showErrorDetails")
    try:
        for value in ("none", "type", False, "stacktrace"):
            config.set_option("client.showErrorDetails", value)
            shown[value] = exception._error_detail_visibility(apply_show_error_details=True)
    finally:
        config.set_option("client.showErrorDetails", original)
    assert shown["none"] == (False, False, False)  # message, trace, type
    assert shown[False].show_trace  # the legacy false still shows the traceback


# --------------------------------------------------------------------------- static check

BANNED_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
BANNED_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}
BANNED_ATTRIBUTE_CALLS = {
    ("torch", "load"): "torch.load unpickles",
    ("jit", "load"): "torch.jit.load runs a serialised program",
    ("pd", "read_pickle"): "unpickles",
    ("pandas", "read_pickle"): "unpickles",
    ("os", "system"): "runs a shell",
    ("os", "popen"): "runs a shell",
    ("yaml", "load"): "yaml.load builds arbitrary objects (use safe_load)",
    ("yaml", "unsafe_load"): "builds arbitrary objects",
    ("st", "html"): "raw HTML",
    ("components", "html"): "raw HTML",
    ("v1", "html"): "raw HTML (st.components.v1.html)",
    ("v1", "iframe"): "embeds another page (st.components.v1.iframe)",
    ("st", "file_uploader"): "uploads need a size limit, safe parsing and tests first",
}
# st.html is allowed for exactly one thing: the app's own stylesheet, ``st.html(style_tag(...))`` in
# ui/shell/presentation.py (module constants only, no user value; test_the_only_raw_html_is_a_stylesheet).
STYLESHEET = ("ui/shell/presentation.py", "style_tag")
# Uploads are allowed only here, each with max_upload_size (MB) at most this: none today.
ALLOWED_UPLOADERS: set[tuple[str, int]] = set()
MAX_UPLOAD_MB = 1


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    what: str


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_stylesheet(node: ast.Call, name: tuple[str, ...], where: str) -> bool:
    """``st.html(style_tag(...))`` in the one module allowed to write the app's stylesheet."""
    argument = node.args[0] if len(node.args) == 1 and not node.keywords else None
    return (
        name[-2:] == ("st", "html")
        and where == STYLESHEET[0]
        and isinstance(argument, ast.Call)
        and isinstance(argument.func, ast.Name)
        and argument.func.id == STYLESHEET[1]
    )


def findings(source: str, where: str) -> list[Finding]:
    """Every construct of ``source`` that could load a pickle, run foreign code or show raw HTML."""
    found: list[Finding] = []

    def flag(node: ast.AST, what: str) -> None:
        found.append(Finding(where, getattr(node, "lineno", 0), what))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in BANNED_MODULES:
                    flag(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in BANNED_MODULES:
                flag(node, f"from {node.module} import")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            keywords = {k.arg: k.value for k in node.keywords}
            if isinstance(node.func, ast.Name) and node.func.id in BANNED_BUILTINS:
                flag(node, f"{node.func.id}()")
            if name[-2:] in BANNED_ATTRIBUTE_CALLS or (name and name[-1] == "file_uploader"):
                if name and name[-1] == "file_uploader":
                    limit = keywords.get("max_upload_size")
                    allowed = (where, getattr(node, "lineno", 0)) in ALLOWED_UPLOADERS
                    if not (allowed and isinstance(limit, ast.Constant) and 0 < limit.value <= MAX_UPLOAD_MB):
                        flag(node, "file_uploader without an allowed size limit")
                elif not _is_stylesheet(node, name, where):
                    flag(node, ".".join(name) + ": " + BANNED_ATTRIBUTE_CALLS[name[-2:]])
            if (
                name[-1:] == ("load",)
                and name[-2:-1] in (("np",), ("numpy",))
                and _is_true(keywords.get("allow_pickle"))
            ):
                flag(node, "np.load(allow_pickle=True)")
            if _is_true(keywords.get("unsafe_allow_html")):
                flag(node, "unsafe_allow_html=True")
            if _is_true(keywords.get("shell")):
                flag(node, "shell=True")
            if name[-1:] == ("cache_data",) and "persist" in keywords:
                flag(node, "st.cache_data(persist=...): pickles on disk")
    return found


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ("import pickle", "import pickle"),
        ("import marshal as m", "import marshal"),
        ("from shelve import open", "from shelve import"),
        ("import dill.settings", "import dill.settings"),
        ("eval('1')", "eval()"),
        ("exec(code)", "exec()"),
        ("compile(src, 'f', 'exec')", "compile()"),
        ("torch.load('m.pt')", "torch.load"),
        ("torch.load(f, weights_only=True)", "torch.load"),
        ("np.load('a.npy', allow_pickle=True)", "np.load(allow_pickle=True)"),
        ("subprocess.run(cmd, shell=True)", "shell=True"),
        ("os.system('ls')", "os.system"),
        ("st.markdown(text, unsafe_allow_html=True)", "unsafe_allow_html=True"),
        ("st.html('<b>x</b>')", "st.html"),
        ("st.file_uploader('Model')", "file_uploader"),
        ("st.sidebar.file_uploader('Model', max_upload_size=1)", "file_uploader"),  # not on the allow-list
        ("pd.read_pickle('x')", "pd.read_pickle"),
        ("yaml.load(text)", "yaml.load"),
        ("st.cache_data(persist='disk')", "persist"),
    ],
)
def test_the_checker_finds_each_banned_construct(snippet, expected):
    found = findings(snippet, "<snippet>")
    assert found and expected in found[0].what, found


def test_the_only_raw_html_is_a_stylesheet():
    """What ``st.html`` receives: one <style> element, no tag, URL or script inside, in both modes."""
    from ui.shell.presentation import style_tag

    assert findings("st.html(style_tag(True))", "pages/x.py")  # anywhere else it is still refused
    assert findings("st.html(f'<b>{name}</b>')", STYLESHEET[0])
    for present in (False, True):
        tag = style_tag(present)
        assert re.fullmatch(r"<style>[^<>]*</style>", tag), tag
        assert not re.search(r"url\(|@import|expression|javascript", tag, re.I)


def test_the_checker_leaves_harmless_lookalikes_alone():
    harmless = (
        "model.eval()\nre.compile('x')\nnp.load('a.npy')\nsubprocess.run(['ls'], shell=False)\n"
        "st.markdown(text)\nimportlib.import_module('explorer.commands.size')\n"
        "st.cache_data(max_entries=4)\nyaml.safe_load(text)"
    )
    assert findings(harmless, "<snippet>") == []


def test_no_pickles_no_foreign_code_no_raw_html_no_uploads_in_our_code():
    assert len(SOURCES) > 20 and ROOT / "pages" / "4_Latency.py" in SOURCES
    found = [f for path in SOURCES for f in findings(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert found == []


# --------------------------------------------------------------------------- ONNX Runtime telemetry


def test_onnx_runtime_telemetry_is_off_once_explorer_is_imported(tmp_path):
    """ORT 1.29+ reports usage from Linux and keeps $TMPDIR/.ses unless ORT_DISABLE_TELEMETRY=1 before it starts."""
    code = (
        "import os, explorer, onnxruntime\nfrom explorer.latency.roofline import _ort_matmul\n"
        "_ort_matmul(8, 1)\nprint(os.environ['ORT_DISABLE_TELEMETRY'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "1"
    assert not (tmp_path / ".ses").exists()  # what ORT writes when its telemetry is on
