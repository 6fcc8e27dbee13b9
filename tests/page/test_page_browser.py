"""The pages in a real browser: Debian's Chromium, headless, driven by selenium through
chromium-driver, pages opened from file:// with every network request sent to a proxy that
does not exist. Skipped only when Chromium or its driver is not installed (`.ci/run` installs
both)."""

from __future__ import annotations

import shutil
import time

import cv2
import numpy as np
import pytest
from page_helpers import grey_video, gt_tube, hot_output

from attnviz.pipeline.page import PageRow, write_dataset_page, write_video_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Chromium and chromium-driver are not installed (apt-get install chromium "
    "chromium-driver; .ci/run does it)",
)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
        "--autoplay-policy=no-user-gesture-required",
        # network off: every request goes to a proxy on a closed port, no name resolves
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(DRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _wait(driver, script: str, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _stage_colours(driver) -> tuple[np.ndarray, np.ndarray]:
    """Mean RGB of the stage's top-left and bottom-right quarters (inset), from a screenshot."""
    png = driver.get_screenshot_as_png()
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    r = driver.execute_script(
        "var b = document.getElementById('overlay').getBoundingClientRect();"
        "return [b.left, b.top, b.width, b.height];"
    )
    x, y, w, h = (int(round(v)) for v in r)

    def quarter(x0: int, y0: int) -> np.ndarray:
        part = img[y0 + h // 16 : y0 + h // 2 - h // 16, x0 + w // 16 : x0 + w // 2 - w // 16]
        return part.reshape(-1, 3).mean(0)

    return quarter(x, y), quarter(x + w // 2, y + h // 2)


def _key(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def test_video_page_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    video = grey_video(tmp_path / "grey.mp4")
    hot = hot_output("top-left")
    other = hot_output("bottom-right")
    page = write_video_page(
        tmp_path / "page", {"attention": hot, "gradcam": other}, video=video,
        gt_tubes=[gt_tube(hot)], gt_segments=[[1.0, 2.0]], label="run",
    )  # fmt: skip
    assert (tmp_path / "page" / "video.webm").is_file()
    browser.get(page.as_uri())
    _wait(browser, "return window.attnviz && attnviz.player.readyState >= 2")
    assert browser.execute_script("return attnviz.player.duration") == pytest.approx(2.56, 0.05)
    # nothing but the page's own files was requested
    urls = browser.execute_script(
        "return [location.href].concat(performance.getEntriesByType('resource')"
        ".map(function (e) { return e.name; }))"
    )
    assert urls and all(u.startswith("file://") for u in urls), urls

    # play (space), it plays, pause (space)
    _key(browser, " ")
    _wait(browser, "return !attnviz.player.paused && attnviz.player.currentTime > 0.2")
    _key(browser, " ")
    _wait(browser, "return attnviz.player.paused")

    # clicking at 3/4 of the curve's time axis seeks there
    curve = browser.find_element(By.ID, "curve")
    pad_l, pad_r = 34, 10
    width = curve.size["width"]
    x = pad_l + 0.75 * (width - pad_l - pad_r)
    ActionChains(browser).move_to_element_with_offset(
        curve, int(x - width / 2), 0
    ).click().perform()
    _wait(browser, "return Math.abs(attnviz.player.currentTime - 1.92) < 0.05")

    # arrows step one sampled frame
    i0 = browser.execute_script("return attnviz.index()")
    _key(browser, Keys.ARROW_RIGHT)
    _wait(browser, f"return attnviz.index() === {i0 + 1}")
    _key(browser, Keys.ARROW_LEFT)
    _wait(browser, f"return attnviz.index() === {i0}")
    time.sleep(0.3)  # the next animation frame draws the overlay

    # the heatmap is hot where the mask is: top-left red, bottom-right blue (jet)
    tl, br = _stage_colours(browser)
    assert tl[0] > tl[2] + 40 and br[2] > br[0] + 40, (tl, br)
    browser.save_screenshot(str(tmp_path / "video_page.png"))

    # switched off: both quarters show the grey frame (the top-left keeps the blue GT box edge
    # outside the inset region)
    browser.find_element(By.ID, "heatmap").click()
    time.sleep(0.3)
    tl_off, br_off = _stage_colours(browser)
    assert abs(tl_off[0] - tl_off[2]) < 12 and abs(br_off[0] - br_off[2]) < 12, (tl_off, br_off)
    browser.find_element(By.ID, "heatmap").click()
    time.sleep(0.3)
    assert np.allclose(_stage_colours(browser)[0], tl, atol=6)

    # m switches method and keeps the frame: the other method is hot bottom-right
    t_before = browser.execute_script("return attnviz.player.currentTime")
    _key(browser, "m")
    _wait(browser, "return attnviz.method() === 'gradcam'")
    assert browser.execute_script("return attnviz.index()") == i0
    assert browser.execute_script("return attnviz.player.currentTime") == t_before
    assert browser.find_element(By.ID, "method").get_attribute("value") == "1"
    time.sleep(0.3)
    tl2, br2 = _stage_colours(browser)
    assert br2[0] > br2[2] + 40 and tl2[2] > tl2[0] + 40, (tl2, br2)

    # opacity 0: the frame shows through
    slider = browser.find_element(By.ID, "opacity")
    browser.execute_script(
        "arguments[0].value = 0; arguments[0].dispatchEvent(new Event('input'))", slider
    )
    time.sleep(0.3)
    _, br0 = _stage_colours(browser)
    assert abs(br0[0] - br0[2]) < 12, br0

    assert "run" in browser.find_element(By.ID, "top5").text
    assert _errors(browser) == []


def test_page_without_video_plays_a_clock(browser, tmp_path):
    page = write_video_page(tmp_path / "p", hot_output("top-left"))
    assert not (tmp_path / "p" / "video.webm").exists()
    browser.get(page.as_uri())
    _wait(browser, "return window.attnviz")
    _key(browser, " ")
    _wait(browser, "return attnviz.player.currentTime > 0.2")
    _key(browser, " ")
    time.sleep(0.3)
    tl, br = _stage_colours(browser)
    assert tl[0] > tl[2] + 40 and br[2] > br[0] + 40, (tl, br)
    assert _errors(browser) == []


def test_dataset_page_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    write_video_page(tmp_path / "videos" / "a", hot_output(video="a"), back="../../index.html")
    rows = [
        PageRow("a", "videos/a/index.html", "run", "run", 0.9, "true positive", True),
        PageRow("b", "videos/b/index.html", "walk", "run", 0.7, "missed", False),
        PageRow("c", "videos/c/index.html", "jump", "jump", 0.4, "true positive", True),
        PageRow("d", "videos/d/index.html", "", "swim", float("nan"), "false alarm", False),
    ]
    page = write_dataset_page(tmp_path, rows, title="four videos")
    browser.get(page.as_uri())
    _wait(browser, "return window.attnviz")

    def shown():
        return [
            tr.find_element(By.TAG_NAME, "a").text
            for tr in browser.find_elements(By.CSS_SELECTOR, "#videos tbody tr")
        ]

    assert shown() == ["a", "b", "c", "d"]
    score = browser.find_element(By.CSS_SELECTOR, "th[data-key='score']")
    score.click()
    assert shown() == ["a", "b", "c", "d"]  # descending first; no score last
    score.click()
    assert shown() == ["c", "b", "a", "d"]
    Select(browser.find_element(By.ID, "filter-correct")).select_by_value("wrong")
    assert sorted(shown()) == ["b", "d"]
    Select(browser.find_element(By.ID, "filter-class")).select_by_value("run")
    assert shown() == ["b"]
    Select(browser.find_element(By.ID, "filter-correct")).select_by_value("")
    assert sorted(shown()) == ["a", "b"]
    assert browser.find_element(By.ID, "count").text == "2 of 4 videos"
    browser.find_element(By.LINK_TEXT, "a").click()
    _wait(browser, "return window.attnviz && window.attnviz.method && attnviz.method()")
    assert browser.current_url.endswith("videos/a/index.html")
    assert _errors(browser) == []
