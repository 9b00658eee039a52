import pytest

from app.core.csvfile import CsvFileError, parse_csv


def test_headers_are_forgiving_and_blank_rows_skipped():
    rows = parse_csv(
        b"\xef\xbb\xbfName,Start Date\nA,2013-05-01\n,\nB,\n", ("name", "start_date"), ("name",)
    )
    assert rows == [
        (2, {"name": "A", "start_date": "2013-05-01"}),
        (4, {"name": "B", "start_date": ""}),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "not UTF-8"),
        ("role\nmember\n", "needs the column(s): name"),
        ("name,age\nA,3\n", "Unknown column(s): age"),
        ("name\n\n", "no rows"),
        ("name\n" + "x\n" * 3, "At most 2 rows"),
        ('name\n"quoted"trailing\n', "not valid CSV"),
    ],
)
def test_file_level_problems(data, message):
    with pytest.raises(CsvFileError) as info:
        parse_csv(data, ("name", "role"), ("name",), max_rows=2)
    assert message in str(info.value)
