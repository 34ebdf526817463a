"""The inspector in a real headless Chromium against real server processes on loopback.

Each test drives one view the way a builder would: click, type, press Run or Send, and read
what the page shows. Screenshots of every view are saved under the test's tmp_path on failure.
"""

from __future__ import annotations

from typing import Any

from tests.inspector.browser import wait_for
from tests.inspector.conftest import SECRET, TOKEN, Example


def _by(selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return (By.CSS_SELECTOR, selector)


def _find(driver: Any, selector: str) -> Any:
    """The first element matching ``selector`` once it is shown (views start hidden)."""

    def shown(d: Any) -> Any:
        element = d.find_element(*_by(selector))
        return element if element.is_displayed() else None

    return wait_for(driver, shown, f"{selector} to be shown")


def _text_in(driver: Any, selector: str, text: str) -> None:
    def shown(d: Any) -> bool:
        return any(text in element.text for element in d.find_elements(*_by(selector)))

    wait_for(driver, shown, f"{text!r} in {selector}")


def _open(driver: Any, url: str) -> None:
    driver.get(url)
    ready = "return !!window.mermaid && !!document.querySelector('.view.active')"
    wait_for(driver, lambda d: d.execute_script(ready), "the page to show a view")


def test_actions_view_runs_an_action_with_arguments(browser: Any, shop: Any) -> None:
    _open(browser, f"{shop.url}/inspect?token={TOKEN}#actions")
    _find(browser, 'li[data-action="action_greet_guest"]').click()
    _text_in(browser, "#action-title", "action_greet_guest")
    _find(browser, 'input[data-arg="guest"]').send_keys("Ada")
    _find(browser, 'input[data-arg="party"]').send_keys("4")
    from selenium.webdriver.support.ui import Select

    Select(_find(browser, 'select[data-arg="vip"]')).select_by_value("true")
    _find(browser, "#action-run").click()

    _text_in(browser, "#run-status", "OK in")
    _text_in(browser, "#run-events", '"greeted"')
    _text_in(browser, "#run-messages", "Welcome Ada, table for 4!")
    assert "null" not in _find(browser, "#action-result").text.splitlines()
    button = _find(browser, '#run-messages button[data-payload="/menu"]')
    assert button.text == "Menu"
    image = _find(browser, "#run-messages img")
    assert image.get_attribute("src") == "https://example.com/welcome.png"

    # An API action: its $variables became the form, the request and response are shown.
    _find(browser, 'li[data-action="getOrder"]').click()
    _text_in(browser, "#action-detail", "$orderId")
    _find(browser, 'input[data-arg="orderId"]').send_keys("B-2")
    _find(browser, "#action-run").click()
    _text_in(browser, "#run-api", "Bearer ***")
    assert SECRET not in browser.page_source
    _text_in(browser, "#run-events", "Desk lamp")

    # A failing action shows the error as the webhook answers it.
    _find(browser, 'li[data-action="action_explode"]').click()
    _find(browser, "#action-run").click()
    _text_in(browser, "#run-status", "Error 500")
    _text_in(browser, "#run-error", "An exception occurred while running action 'action_explode'.")


def _send(driver: Any, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    field = _find(driver, "#chat-input")
    field.send_keys(text, Keys.ENTER)


def _slot_changed(driver: Any, slot: str, value: str) -> None:
    def changed(d: Any) -> bool:
        rows = d.find_elements(*_by(f'#chat-slots tr[data-slot="{slot}"]'))
        return bool(rows) and "changed" in rows[0].get_attribute("class") and value in rows[0].text

    wait_for(driver, changed, f"slot {slot} highlighted as changed to {value}")


def test_chat_view_books_a_table_by_typing_and_clicking(browser: Any, example: Example) -> None:
    _open(browser, f"{example.server.url}/inspect#chat")
    _find(browser, "#chat-new").click()
    _send(browser, "/book_table")
    _text_in(browser, "#chat-transcript .msg.bot", "Which cuisine would you like?")
    _text_in(browser, "#chat-stack", "book_table @ collect cuisine")
    _text_in(browser, "#chat-commands", '"start flow"')
    _find(browser, '#chat-diagram[data-flow="book_table"] svg .current')

    _find(browser, '#chat-transcript button[data-payload="/SetSlots(cuisine=italian)"]').click()
    _slot_changed(browser, "cuisine", "italian")
    _text_in(browser, "#chat-stack", "book_table @ collect party_size")
    _text_in(browser, "#chat-commands", '"set slot"')

    _send(browser, "4")
    _slot_changed(browser, "party_size", "4")
    _send(browser, "19:30")
    _text_in(browser, "#chat-transcript .msg.bot", "Under which name should I book the table?")
    _text_in(browser, "#chat-stack", "collect_contact @ collect contact_name")
    _text_in(browser, "#chat-stack", "book_table @ call -> collect_contact")
    _find(browser, '#chat-diagram[data-flow="collect_contact"] svg .current')
    _send(browser, "Ann")
    _send(browser, "+44 20 7946 0000")  # sent before Ann's answer arrives: the page keeps order
    _text_in(browser, "#chat-transcript", "Done! A italian table for 4 at 19:30 is booked for Ann.")
    image = _find(browser, "#chat-transcript img")
    assert image.get_attribute("src") == "https://example.com/images/table.png"
    _slot_changed(browser, "booking_confirmed", "true")
    _text_in(browser, "#chat-stack", "(empty)")
    _text_in(browser, "#chat-diagram", "No active flow.")
    _text_in(browser, "#chat-events details summary", "Turn 6: +44 20 7946 0000")

    _find(browser, "#chat-restart").click()
    _text_in(browser, "#chat-events details summary", "Turn 7: /restart")
    _text_in(browser, "#chat-commands", '"restart"')


def test_flows_view_draws_validates_and_runs_the_e2e_tests(browser: Any, example: Example) -> None:
    _open(browser, f"{example.server.url}/inspect#flows")
    _find(browser, '#flow-list li[data-flow="book_table"]').click()
    _text_in(browser, "#flow-title", "Book a table (book_table)")
    _find(browser, '#flow-diagram[data-rendered="true"] svg')
    _text_in(browser, "#flow-diagram svg", "collect cuisine")

    _find(browser, "#flows-validate").click()
    _text_in(browser, "#validation-status", "Valid: 5 flows, no problems")

    _find(browser, "#flows-test").click()
    _text_in(browser, "#tests-summary", "passed, 0 failed")
    cases = browser.find_elements(*_by("#tests-cases li.case.passed"))
    assert len(cases) >= 5
    assert any("happy_path_books_a_table" in case.text for case in cases)


def test_flows_view_shows_problems_and_failed_cases(browser: Any, example: Example) -> None:
    flows_file = example.flows / "flows.yml"
    original = flows_file.read_text(encoding="utf-8")
    failing = example.flows / "tests" / "zz_failing.yml"
    _open(browser, f"{example.server.url}/inspect#flows")
    try:
        flows_file.write_text(
            original + "\n  broken:\n    steps:\n      - link: nowhere\n", encoding="utf-8"
        )
        _find(browser, "#flows-validate").click()
        _text_in(browser, "#validation-status", "1 problem(s)")
        _text_in(browser, "#validation-issues li", f"{flows_file}:{original.count(chr(10)) + 4}:")
        flows_file.write_text(original, encoding="utf-8")
        failing.write_text(
            "test_cases:\n  - test_case: asks_the_wrong_thing\n    steps:\n"
            '      - user: "/book_table"\n      - utter: utter_ask_time\n',
            encoding="utf-8",
        )
        _find(browser, "#flows-test").click()
        _text_in(browser, "#tests-summary", "passed, 1 failed")
        _text_in(
            browser,
            '#tests-cases li.case.failed[data-case="asks_the_wrong_thing"]',
            "utter_ask_time",
        )
    finally:
        flows_file.write_text(original, encoding="utf-8")
        failing.unlink(missing_ok=True)
