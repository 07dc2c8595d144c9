"""The API key file: AWS's CSV format read in full, every bad row named by its line."""

from __future__ import annotations

from authgate.usage.csv_keys import MAX_ROWS, KeyRow, parse

V1 = "apikey1234abcdefghij0123456789"
V2 = "apikey1234abcdefghij0123456780"


def test_the_example_from_the_developer_guide() -> None:
    parsed = parse(
        b"Name,key,description,Enabled,usageplanIds\n"
        b'MyFirstApiKey,apikey1234abcdefghij0123456789,An imported key,TRUE,"c7y23b,glvrsr"\n'
    )
    assert parsed.problems == []
    assert parsed.warnings == []
    assert parsed.rows == [
        KeyRow(2, "MyFirstApiKey", V1, "An imported key", True, ("c7y23b", "glvrsr"))
    ]


def test_columns_in_any_order_and_case_with_defaults() -> None:
    parsed = parse(f"KEY,NAME\r\n{V1},first\r\n{V2},second\r\n".encode())
    assert parsed.problems == []
    assert [(r.name, r.value, r.description, r.enabled, r.plan_ids) for r in parsed.rows] == [
        ("first", V1, "", True, ()),
        ("second", V2, "", True, ()),
    ]


def test_single_quoted_plan_ids_and_boolean_case() -> None:
    parsed = parse(f"Name,Key,Enabled,UsagePlanIds\nk,{V1},fAlSe,'a1, b2 ,a1'\n".encode())
    assert parsed.problems == []
    assert parsed.rows[0].plan_ids == ("a1", "b2")
    assert parsed.rows[0].enabled is False


def test_byte_order_mark_blank_lines_and_unknown_columns() -> None:
    parsed = parse(f"\ufeffName,Key,Color\n\nk,{V1},red\n\n".encode())
    assert parsed.problems == []
    assert parsed.warnings == ["line 1: column 'Color' is not recognised; ignored"]
    assert parsed.rows[0].line == 3


def test_every_problem_is_reported_with_its_line() -> None:
    parsed = parse(
        (
            "Name,Key,Enabled,Description\n"
            f"ok,{V1},true,fine\n"
            '"multi\nline name",short,true,x\n'
            f"k,{V2},yes,x\n"
            f"k,{V1},true,x,extra\n"
            f"again,{V1},true,x\n"
        ).encode()
    )
    assert parsed.problems == [
        "line 3: Key must be 30 to 128 letters and digits",
        "line 5: Enabled must be true or false, not 'yes'",
        "line 6: 5 fields, but the header has 4",
        "line 7: the same Key as line 2",
    ]
    assert [row.line for row in parsed.rows] == [2, 7]


def test_key_value_rules() -> None:
    good, short, long_, symbol = "a" * 30, "a" * 29, "a" * 129, "a" * 29 + "-"
    body = f"Name,Key\nk1,{good}\nk2,{short}\nk3,{long_}\nk4,{symbol}\n".encode()
    assert [p.split(":")[0] for p in parse(body).problems] == ["line 3", "line 4", "line 5"]


def test_header_problems_stop_the_parse() -> None:
    assert parse(b"Name,Description\nk,d\n").problems == ["line 1: the header has no Key column"]
    assert parse(b"Name,Key,name\n").problems == ["line 1: column 'name' appears twice"]
    assert parse(b"").problems == [
        "the file is empty; it needs a header row naming the Name and Key columns"
    ]
    assert parse(b"\n\n").problems == parse(b"").problems
    assert parse(b"\xff\xfe").problems == ["the file is not UTF-8 text"]
    assert parse(b"Name,Key\n").warnings == ["the file has no keys"]


def test_broken_quoting_is_a_problem_not_a_crash() -> None:
    parsed = parse(f'Name,Key\n"unterminated,{V1}\n'.encode())
    assert parsed.rows == []
    assert len(parsed.problems) == 1


def test_too_many_rows() -> None:
    rows = "".join(f"k{n},{n:030d}\n" for n in range(MAX_ROWS + 1))
    parsed = parse(f"Name,Key\n{rows}".encode())
    assert parsed.problems == [f"line {MAX_ROWS + 2}: the file has more than {MAX_ROWS} keys"]
