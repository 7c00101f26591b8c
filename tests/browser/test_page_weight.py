"""Page weight budget: the catalog, an experience page and the booking form, measured in
Chromium on a phone's viewport with an empty cache (the same code as bench/page_weight.py)."""

from __future__ import annotations

import pytest

from bench.page_weight import BUDGET_BEFORE_IMAGES, BUDGET_WITH_IMAGES, measure_pages, table

pytestmark = pytest.mark.browser


def test_first_views_stay_within_the_budget(live_server, browser):
    weights = measure_pages(browser, live_server)
    report = table(weights)
    by_name = {weight.name: weight for weight in weights}
    # The measurement saw what it should: compressed pages, the stylesheet, the photos.
    for weight in weights:
        kinds = [kind for kind, _, _ in weight.requests]
        assert kinds.count("Document") == 1 and "Stylesheet" in kinds, report
        assert 0 < weight.before_images <= weight.with_images, report
    assert by_name["experience"].image_count >= 1, report  # the hero photo
    assert by_name["catalog"].image_count >= 1, report
    assert by_name["booking form"].image_count == 0, report
    problems = [problem for weight in weights for problem in weight.over_budget()]
    assert not problems, f"{problems}\n{report}"
    assert BUDGET_BEFORE_IMAGES == 60 * 1024 and BUDGET_WITH_IMAGES == 300 * 1024


def test_a_second_visit_reuses_static_files_and_revalidates_the_page(live_server, browser):
    """Stylesheet and photos are immutable under their names: the browser takes them from
    its cache without asking, also after the booking form has given the visitor a session
    cookie. The page is asked for again and answered 304 (its ETag)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        urls: dict[str, str] = {}
        cached: set[str] = set()
        wire_status: dict[str, int] = {}  # what came over the network, 304s included
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]),
        )
        cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
        cdp.on(
            "Network.responseReceivedExtraInfo",
            lambda e: wire_status.__setitem__(e["requestId"], e["statusCode"]),
        )
        cdp.send("Network.enable")
        experience = live_server + "/experiences/kallari-cacao-route"
        steps: list[set[str]] = []

        def visit(url: str) -> set[str]:
            before = set(urls)
            page.goto(url)
            page.wait_for_load_state("networkidle")
            steps.append(set(urls) - before)
            return steps[-1]

        def requests(ids, part):
            return [rid for rid in ids if part in urls[rid]]

        start = visit(experience)
        first = requests(start, "/static/css/site.") + requests(start, "/media/")
        assert requests(start, "/static/css/site.") and requests(start, "/media/")
        assert not cached & set(first)  # an empty cache to start with
        book = page.locator("a[href$='/book']").first.get_attribute("href")
        assert not context.cookies()
        form = visit(live_server + book)  # the CSRF token starts a session
        assert context.cookies(), "the booking form sets a session cookie"
        with_cookie = visit(experience)
        reused = requests(form, "/static/css/site.") + requests(with_cookie, "/static/css/site.")
        reused += requests(with_cookie, "/media/")
        assert len(reused) >= 3, [urls[rid] for rid in form | with_cookie]
        for rid in reused:
            assert rid in cached and rid not in wire_status, urls[rid]
        visit(live_server + "/")
        again = visit(experience)
        document = [rid for rid in again if urls[rid] == experience]
        assert document and wire_status[document[0]] == 304
    finally:
        context.close()
