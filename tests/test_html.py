"""`--format html`: one self-contained page, checked in a real headless Chromium (Debian's
`chromium`, driven over the DevTools protocol by tests/browser.py): it renders without console
errors, a screenshot is not blank, and the page makes no network request.

The browser tests skip only where no Chromium is installed (`.ci/run` installs it).
"""

import os
import re
import subprocess
import sys

import pytest

from layercalc.render.html import report_html

from .browser import Browser, find_chromium, image_stats

HERE = os.path.dirname(os.path.abspath(__file__))


def spec(name):
    return os.path.join(HERE, "..", "specs", f"{name}.yaml")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "layercalc", *args], capture_output=True, text=True)


# --- the page's content -------------------------------------------------------------------------


def test_the_page_is_self_contained():
    html = report_html(spec("resnet50"))
    # nothing that could load: no src/href to anything but an in-page fragment, no url(), no @import
    assert not re.search(r'\b(src|href)\s*=\s*"(?!#)', html)
    assert "url(" not in html.replace("url(#arrow)", "") and "@import" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    # totals: torchvision's ResNet-50, 25,557,032 params and 4,089,184,256 MACs
    assert 'title="25,557,032"' in html and "4,089,184,256" in html
    # the table folds by block: layer3 is a <details> whose summary row sums its 62 layers
    assert re.search(r'<details[^>]*><summary class="row"><span[^>]*>layer3</span><span[^>]*>Stage</span>'
                     r'<span class="num"[^>]*>62</span>', html)
    # charts and graph are inline SVG
    assert html.count("<svg") == 3 and "Params per block" in html and "MACs per block" in html


def test_gpt2_charts_show_one_bar_per_transformer_block():
    html = report_html(spec("gpt2-small"))
    chart = html[html.index("<h3>Params per block</h3>"):html.index("</svg>", html.index("<h3>Params per block</h3>"))]
    # 12 blocks of 7,087,872 params each (see test_graph.py for the arithmetic), one bar each
    assert len(re.findall(r"<title>h\.\d+: 7,087,872 params</title>", chart)) == 12


def test_cli_html(tmp_path):
    p = cli("summary", spec("lenet5"), "--format", "html")
    assert p.returncode == 0 and p.stdout.startswith("<!doctype html>") and p.stdout.rstrip().endswith("</html>")
    assert cli("summary", spec("lenet5"), "--format", "html", "--symbolic", "B").returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("layercalc: 1\nname: bad\ninputs:\n  x: [1, 4]\nlayers:\n  - Linear: {in_features: 5, out_features: 2}\n")
    p = cli("summary", str(bad), "--format", "html")
    assert p.returncode == 1 and p.stderr.startswith(f"{bad}:6:") and p.stdout == ""


# --- in the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    with Browser() as b:
        yield b


def load(browser, path):
    tab = browser.page(width=1280, height=1000)
    url = "file://" + str(path)
    tab.goto(url)
    tab.settle(0.3)
    return tab, url


@pytest.mark.parametrize("name", ["resnet50", "gpt2-small"])
def test_the_page_renders_in_chromium(browser, tmp_path, name):
    page = tmp_path / f"{name}.html"
    p = cli("summary", spec(name), "--format", "html")
    assert p.returncode == 0
    page.write_text(p.stdout)
    tab, url = load(browser, page)
    assert tab.console_errors() == []
    assert tab.requests() == [url]  # the page itself, nothing else
    assert tab.evaluate("document.querySelectorAll('svg').length") == 3
    # the folding works: "collapse all" closes every block, "expand all" opens them
    n = tab.evaluate("document.querySelectorAll('.table details').length")
    assert n > 0
    tab.evaluate("document.querySelector('button[data-open=\"0\"]').click()")
    assert tab.evaluate("document.querySelectorAll('.table details[open]').length") == 0
    tab.evaluate("document.querySelector('button[data-open=\"1\"]').click()")
    assert tab.evaluate("document.querySelectorAll('.table details[open]').length") == n
    colours, inked = image_stats(browser, tab.screenshot())
    assert colours > 50 and inked > 0.05, (colours, inked)
    assert tab.console_errors() == []


def test_the_request_log_sees_a_request(browser, tmp_path):
    # the check can fail: a page that loads an image (from a port nothing listens on) is seen
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    tab, url = load(browser, page)
    assert "http://127.0.0.1:9/x.png" in tab.requests()


def test_a_blank_screenshot_is_seen(browser, tmp_path):
    page = tmp_path / "blank.html"
    page.write_text("<!doctype html><html><body></body></html>")
    tab, _ = load(browser, page)
    colours, inked = image_stats(browser, tab.screenshot())
    assert colours <= 2 and inked < 0.01


def test_memory_and_diff_pages(browser, tmp_path):
    pages = {
        "memory": cli("memory", spec("resnet18"), "--format", "html"),
        "diff": cli("diff", spec("resnet18"), spec("resnet50"), "--format", "html"),
    }
    for name, p in pages.items():
        assert p.returncode == 0, p.stderr
        assert not re.search(r'\b(src|href)\s*=\s*"(?!#)', p.stdout)
        path = tmp_path / f"{name}.html"
        path.write_text(p.stdout)
        tab, url = load(browser, path)
        assert tab.console_errors() == [] and tab.requests() == [url], name
        colours, inked = image_stats(browser, tab.screenshot())
        assert colours > 50 and inked > 0.05, (name, colours, inked)
    # memory: ResNet-18's float32 weights, 11,689,512 * 4 = 46,758,048 bytes, in the weights card
    assert "46,758,048 B" in pages["memory"].stdout
    # diff: params 11,689,512 -> 25,557,032, +13,867,520 (+118.63%)
    assert "+13,867,520 (+118.63%)" in pages["diff"].stdout
    assert pages["diff"].stdout.count("<svg") == 4  # two pair charts and both graphs


def test_cost_page(browser, tmp_path):
    p = cli("cost", spec("gpt2-small"), "--tokens", "3e11", "--accelerator", "h100-sxm", "--format", "html")
    assert p.returncode == 0, p.stderr
    html = p.stdout
    assert html.startswith("<!doctype html>") and not re.search(r'\b(src|href)\s*=\s*"(?!#)', html)
    # GPT-2 small at B=1, T=1024: training FLOPs per step 113,616·T² + 742,897,152·T (tests/test_symbolic.py)
    # = 119,135,010,816 + 760,726,683,648 = 879,861,694,464, in the first card
    assert "879,861,694,464" in html
    # the roofline columns and the 12 transformer blocks folded (the table opens at a readable depth)
    assert "Bytes moved" in html and "Bound" in html and "memory" in html
    assert "Where the compute goes" in html and html.count("<svg") == 3
    path = tmp_path / "cost.html"
    path.write_text(html)
    tab, url = load(browser, path)
    assert tab.console_errors() == [] and tab.requests() == [url]
    colours, inked = image_stats(browser, tab.screenshot())
    assert colours > 50 and inked > 0.05, (colours, inked)
    n = tab.evaluate("document.querySelectorAll('.table details').length")
    assert n >= 12
    tab.evaluate("document.querySelector('button[data-open=\"0\"]').click()")
    assert tab.evaluate("document.querySelectorAll('.table details[open]').length") == 0
    # usage: html is a concrete page; a spec error exits 1 with nothing on standard output
    assert cli("cost", spec("lenet5"), "--format", "html", "--symbolic", "B").returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("layercalc: 1\nname: bad\ninputs:\n  x: [1, 4]\nlayers:\n"
                   "  - Linear: {in_features: 5, out_features: 2}\n")
    p = cli("cost", str(bad), "--format", "html")
    assert p.returncode == 1 and p.stderr.startswith(f"{bad}:6:") and p.stdout == ""
