#!/usr/bin/python3
"""Checks an explorer.html in Debian's headless Chromium (selenium + chromium-driver).

    /usr/bin/python3 tools/browser_check.py --page PATH [--expect JSON] [--screenshots DIR] [--timings FILE]

Run it with Debian's /usr/bin/python3: Debian's python3-selenium imports there, not under another
Python that may come first on PATH. What it checks (each failure printed, exit 1 if any):
  * the page loads from disk (file://) with no console error and draws its first view;
  * clicking a label lists its neurons (one row per ranked neuron) and marks the button pressed;
  * clicking a neuron row opens its card;
  * a URL fragment (#label=…&neuron=…) restores the view when the page is loaded with it;
  * at 1280 and at 800 px wide nothing overflows the window sideways;
  * with --expect: {"label": L, "rows": R, "first_neuron": F, "neuron": K, "top_words": [W, …]}: the label
    view of L has R rows and ranks F first, and neuron K's card lists the words W (in order) as its top tokens;
    "search": {"word": W, "sentences": S}: searching W shows S sentences with every W marked;
    "span": {"token": T, "first_match": K, "extend_from": A, "extend_to": B}: clicking token T lists neuron K first
    among the matches, and Enter on token A then Shift+Enter on token B selects the span A-B;
    "restore_neuron"/"restore_top_words": the card a fragment with that neuron restores.
--screenshots DIR writes explorer-label.png (the label view) and explorer-card.png (a neuron card).
--timings FILE writes the milliseconds each view change took (label click, neuron click, method and
colour change, search, span selection), median of 5, as JSON: the benchmark's, not a test's, figures.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
except ImportError:
    sys.exit("error: selenium is not importable by " + sys.executable
             + "; run scripts/setup.sh --browser (Debian's python3-selenium, chromium and chromium-driver) and use /usr/bin/python3")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL: " + message, file=sys.stderr)


def browser(width):
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},900",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    profile = tempfile.mkdtemp(prefix="explorer-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    for path in ("/usr/bin/chromium",):
        if os.path.exists(path):
            options.binary_location = path
    driver_path = "/usr/bin/chromedriver"
    service = Service(driver_path) if os.path.exists(driver_path) else Service()
    return webdriver.Chrome(service=service, options=options)


def load(driver, url):
    driver.get(url)
    for _ in range(100):
        if driver.execute_script("return window.explorerReady === true"):
            return True
        time.sleep(0.05)
    return False


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def overflows(driver):
    return driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#neuron-table tr.neuron-row")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--page", required=True)
    parser.add_argument("--expect", help="JSON with label, rows, first_neuron, neuron and top_words")
    parser.add_argument("--screenshots", help="a folder for explorer-label.png and explorer-card.png")
    parser.add_argument("--timings", help="write view-change timings (ms, median of 5) to this JSON file")
    args = parser.parse_args()
    page = os.path.abspath(args.page)
    if not os.path.exists(page):
        sys.exit(f"error: {page}: no such page")
    url = "file://" + page
    expect = json.loads(args.expect) if args.expect else {}

    driver = browser(1280)
    try:
        check(load(driver, url), "the page never set window.explorerReady")
        errors = console_errors(driver)
        check(not errors, f"console errors on load: {errors}")
        labels = driver.find_elements(By.CSS_SELECTOR, "button.label-button")
        check(len(labels) > 0, "no label buttons")
        label = expect.get("label") or (labels[-1].get_attribute("data-label") if labels else None)
        button = driver.find_element(By.CSS_SELECTOR, f'button.label-button[data-label="{label}"]')
        button.click()
        check(button.get_attribute("aria-pressed") == "true", f"{label}'s button is not pressed after a click")
        listed = rows(driver)
        check(len(listed) > 0, f"clicking {label} lists no neurons")
        if "rows" in expect:
            check(len(listed) == expect["rows"], f"{label} lists {len(listed)} neurons, expected {expect['rows']}")
        if "first_neuron" in expect and listed:
            check(listed[0].get_attribute("data-neuron") == str(expect["first_neuron"]),
                  f"{label}'s first neuron is {listed[0].get_attribute('data-neuron')}, expected {expect['first_neuron']}")
        check(not overflows(driver), "the label view overflows sideways at 1280 px")
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
            driver.save_screenshot(os.path.join(args.screenshots, "explorer-label.png"))
        neuron = expect.get("neuron", int(listed[0].get_attribute("data-neuron")) if listed else 0)
        row = driver.find_element(By.CSS_SELECTOR, f'#neuron-table tr.neuron-row[data-neuron="{neuron}"]')
        row.click()
        title = driver.find_element(By.ID, "card-title").text
        check(title.startswith(f"Neuron {neuron}"), f"clicking neuron {neuron} shows the card '{title}'")
        marks = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "#card-top-tokens li.top-token mark")]
        if "top_words" in expect:
            wanted = expect["top_words"]
            check(marks[:len(wanted)] == wanted, f"neuron {neuron}'s top tokens are {marks[:len(wanted)]}, expected {wanted}")
        else:
            check(len(marks) > 0, f"neuron {neuron}'s card lists no top tokens")
        fragment = driver.execute_script("return location.hash")
        check(f"label={label}" in fragment and f"neuron={neuron}" in fragment, f"the URL fragment {fragment} does not hold the view")
        if "search" in expect:
            word, count = expect["search"]["word"], expect["search"]["sentences"]
            box = driver.find_element(By.ID, "search-input")
            box.clear()
            box.send_keys(word)
            driver.find_element(By.ID, "search-button").click()
            found = driver.find_elements(By.CSS_SELECTOR, "#search-results .sentence")
            check(len(found) == count, f"searching '{word}' shows {len(found)} sentences, expected {count}")
            marked = [e.find_element(By.CSS_SELECTOR, ".word").text for e in driver.find_elements(By.CSS_SELECTOR, "#search-results span.token.found")]
            check(marked and all(w.lower() == word.lower() for w in marked), f"searching '{word}' marks {marked}")
        if "span" in expect:
            token = expect["span"]["token"]
            driver.find_element(By.CSS_SELECTOR, f'#sentences span.token[data-token="{token}"]').click()
            matches = driver.find_elements(By.CSS_SELECTOR, "#match-results li.match")
            check(bool(matches) and matches[0].get_attribute("data-neuron") == str(expect["span"]["first_match"]),
                  f"selecting token {token} matches {[m.get_attribute('data-neuron') for m in matches]} first, expected {expect['span']['first_match']}")
            check(f"span={token}-{token}" in driver.execute_script("return location.hash"), "the selected span is not in the URL fragment")
            if "extend_to" in expect["span"]:
                # The keyboard: Enter on a token starts a span, Shift+Enter on another extends it.
                start, end = expect["span"]["extend_from"], expect["span"]["extend_to"]
                driver.find_element(By.CSS_SELECTOR, f'#sentences span.token[data-token="{start}"]').send_keys(Keys.ENTER)
                driver.find_element(By.CSS_SELECTOR, f'#sentences span.token[data-token="{end}"]').send_keys(Keys.SHIFT, Keys.ENTER)
                check(f"span={start}-{end}" in driver.execute_script("return location.hash"),
                      f"Enter then Shift+Enter did not select tokens {start}-{end}: {driver.execute_script('return location.hash')}")
            # Back to the card under test, for the screenshot.
            driver.find_element(By.CSS_SELECTOR, f'#neuron-table tr.neuron-row[data-neuron="{neuron}"]').click()
        # Keyboard: Tab reaches the label buttons, Enter on a row opens its card.
        driver.execute_script("document.querySelector('#neuron-table tr.neuron-row').focus()")
        focused = driver.switch_to.active_element
        check(focused.get_attribute("class") == "neuron-row", "a neuron row cannot take the keyboard focus")
        if args.screenshots:
            # A taller window, so the card's profile, distribution, top tokens and matches show together.
            driver.set_window_size(1280, 1700)
            driver.execute_script("document.getElementById('neuron-card').scrollIntoView()")
            driver.save_screenshot(os.path.join(args.screenshots, "explorer-card.png"))
            driver.set_window_size(1280, 900)
        timings = {}
        if args.timings:
            def timed(name, script):
                values = []
                for _ in range(5):
                    values.append(driver.execute_script(script + "; return window.explorerLastRenderMilliseconds;"))
                timings[name] = statistics.median(values)
            other = labels[0].get_attribute("data-label")
            timed("label click", f"document.querySelector('button.label-button[data-label=\"{other}\"]').click()")
            timed("neuron click", "document.querySelectorAll('#neuron-table tr.neuron-row')[1].click()")
            timed("method change", "const s = document.getElementById('method'); s.value = s.options[s.options.length - 1].value; s.dispatchEvent(new Event('change'))")
            timed("colour change", "const c = document.getElementById('color'); c.value = c.value === 'activation' ? 'contribution' : 'activation'; c.dispatchEvent(new Event('change'))")
            timed("search", "const i = document.getElementById('search-input'); i.value = 'the'; document.getElementById('search-button').click()")
            timed("span selection", "document.querySelector('#sentences span.token').click()")
            # A whole load with a fragment: parse, decode and draw.
            loads = []
            for _ in range(3):
                driver.get("about:blank")
                start = driver.execute_script("return performance.timeOrigin + performance.now()")
                load(driver, url + f"#label={label}&neuron={neuron}")
                loads.append(driver.execute_script("return performance.timeOrigin + performance.now()") - start)
            timings["load with a fragment"] = statistics.median(loads)
            with open(args.timings, "w") as handle:
                json.dump({"page": page, "bytes": os.path.getsize(page), "milliseconds_median_of_5": timings}, handle, indent=2)
        errors = console_errors(driver)
        check(not errors, f"console errors while clicking: {errors}")
    finally:
        driver.quit()

    # The fragment restores the view on a fresh load.
    driver = browser(1280)
    try:
        restored_label = expect.get("label") or label
        restored_neuron = expect.get("restore_neuron", neuron)
        check(load(driver, url + f"#label={restored_label}&neuron={restored_neuron}"), "the page with a fragment never drew")
        pressed = driver.find_elements(By.CSS_SELECTOR, 'button.label-button[aria-pressed="true"]')
        check([b.get_attribute("data-label") for b in pressed] == [restored_label], f"the fragment did not restore label {restored_label}")
        title = driver.find_element(By.ID, "card-title").text
        check(title.startswith(f"Neuron {restored_neuron}"), f"the fragment did not restore neuron {restored_neuron}: '{title}'")
        if "restore_top_words" in expect:
            marks = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "#card-top-tokens li.top-token mark")]
            wanted = expect["restore_top_words"]
            check(marks[:len(wanted)] == wanted, f"restored neuron {restored_neuron}'s top tokens are {marks[:len(wanted)]}, expected {wanted}")
        check(not console_errors(driver), "console errors on a load with a fragment")
    finally:
        driver.quit()

    # Narrow windows.
    driver = browser(800)
    try:
        check(load(driver, url), "the page never drew at 800 px")
        check(not overflows(driver), "the page overflows sideways at 800 px")
        check(len(rows(driver)) > 0, "no neuron rows at 800 px")
    finally:
        driver.quit()

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("explorer page: every check passed" + (f"; timings in {args.timings}" if args.timings else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
