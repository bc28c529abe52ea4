import pytest

from genomeweb.lib.durations import duration_text


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.42, "0.4 s"),
        (9.94, "9.9 s"),
        (42.4, "42 s"),
        (59.6, "1 min 0 s"),
        (90, "1 min 30 s"),
        (3 * 3600 + 125, "3 h 2 min"),
        (2 * 86400 + 5 * 3600 + 59, "2 d 5 h"),
        (-3, "0.0 s"),
    ],
)
def test_a_duration_reads_like_a_person_would_say_it(seconds, text):
    assert duration_text(seconds) == text
