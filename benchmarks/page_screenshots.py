"""Screenshots of the interactive pages for the README (headless Chromium through selenium,
the network off), from a ``compare-explanations`` output folder.

The pages in ``assets/`` are those ``compare-explanations --data syn --max-videos 8
--methods attention,gradcam`` writes (``attnviz.pipeline.page.write_compare_pages`` on the
two methods' outputs of 8 videos of ``attnviz synth --out syn --videos 8 --seed 2000
--splits test=1``), shot with ``--video synth2000_00000 --time 1.0``.

Run: ``python benchmarks/page_screenshots.py --pages DIR [--video KEY] [--time SECONDS]
[--out assets]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _browser(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--proxy-server=http://127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", required=True, type=Path, help="compare-explanations output.")
    ap.add_argument("--video", default=None, help="Video key (default: the first one).")
    ap.add_argument("--time", type=float, default=None, help="Seconds to seek to.")
    ap.add_argument("--out", type=Path, default=ROOT / "assets")
    args = ap.parse_args()
    from attnviz.pipeline.page import page_key

    index = args.pages / "index.html"
    videos = sorted((args.pages / "videos").iterdir())
    page = (args.pages / "videos" / page_key(args.video)) if args.video else videos[0]
    driver = _browser(1060, 700)
    try:
        driver.get(index.resolve().as_uri())
        time.sleep(1.0)
        h = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1060, min(max(h + 160, 300), 700))
        time.sleep(0.5)
        driver.save_screenshot(str(args.out / "page_index.png"))
        driver.set_window_size(1060, 900)
        driver.get((page / "index.html").resolve().as_uri())
        time.sleep(1.5)
        if args.time is not None:
            driver.execute_script(f"attnviz.seek({args.time})")
        time.sleep(1.0)
        driver.save_screenshot(str(args.out / "page_video.png"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    shots = f"{args.out / 'page_index.png'} and {args.out / 'page_video.png'}"
    print(f"wrote {shots}; browser errors: {errors}")


if __name__ == "__main__":
    main()
