"""The Nix checks remember their answers by text (a build checks each extraConfig while
validating and again while compiling): what they answer stays the same, whoever asked
before and whatever they did with the answer."""

from __future__ import annotations

from homelab.nix.syntax import check_expression, check_module_body

BAD_BINDINGS = "services.fwupd.enable = ;\n"
BAD_EXPRESSION = "{ a = 1; "


def test_an_answer_changed_by_its_caller_is_not_the_next_callers() -> None:
    kind, errors = check_module_body(BAD_BINDINGS)
    assert kind == "bindings" and len(errors) == 1
    errors.clear()
    assert len(check_module_body(BAD_BINDINGS)[1]) == 1

    first = check_expression(BAD_EXPRESSION)
    assert first
    first.append(first[0])
    assert check_expression(BAD_EXPRESSION) == first[:-1]


def test_a_good_text_stays_good_and_a_bad_one_bad_when_asked_again() -> None:
    for _ in range(3):
        assert check_module_body("services.fwupd.enable = true;") == ("bindings", [])
        assert check_expression("1 + 2") == []
        assert check_module_body(BAD_BINDINGS)[1]
        assert check_expression(BAD_EXPRESSION)


def test_a_long_text_is_checked_as_a_short_one() -> None:
    # past the length the checks remember: the same answers, every time
    lines = "".join(f'networking.hosts.h{i} = [ "a" ];\n' for i in range(1000))
    assert len(lines) > 16 * 1024
    assert check_module_body(lines) == ("bindings", [])
    broken = lines + "x = ;\n"
    first = check_module_body(broken)
    assert first[1] and first[1][0].line == 1001
    assert check_module_body(broken) == first
    assert check_expression("[" + "1 " * 9000 + "]") == []
    assert check_expression("[" + "1 " * 9000) == check_expression("[" + "1 " * 9000)
    assert check_expression("[" + "1 " * 9000)
