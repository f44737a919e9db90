"""GenerationProgress: images and boxes, readable rates, time left, terminal and logs."""
import io

from mmsamrs.generation import GenerationProgress
from mmsamrs.generation.progress import format_duration, format_rate


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rates_never_read_zero():
    assert format_rate(1, 40.0, 'image', 'images') == '40.0 s/image'
    assert format_rate(30, 2.0, 'box', 'boxes') == '15.0 boxes/s'
    assert format_rate(0, 5.0, 'box', 'boxes') == '? boxes/s'
    assert format_duration(3725.4) == '1:02:05'


def test_log_lines_count_images_and_boxes_with_time_left():
    clock, stream = FakeClock(), io.StringIO()
    progress = GenerationProgress(4, 100, stream=stream, interval=30, clock=clock)
    clock.now += 10
    progress.update(1, 20)
    assert stream.getvalue() == ''  # not a terminal: at most one line per interval
    clock.now += 30
    progress.update(1, 30)
    assert stream.getvalue() == ('images 2/4 (20.0 s/image), boxes 50/100 (1.2 boxes/s), '
                                 'elapsed 0:00:40, left 0:00:40\n')
    clock.now += 5
    progress.update(1, 10)
    assert stream.getvalue().count('\n') == 1
    progress.close()
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith('images 3/4 (15.0 s/image), boxes 60/100 (1.3 boxes/s)')
    assert last.endswith('elapsed 0:00:45, left 0:00:15')


def test_terminal_line_is_redrawn_in_place():
    clock, stream = FakeClock(), Terminal()
    progress = GenerationProgress(2, 3, stream=stream, clock=clock)
    clock.now += 0.5
    progress.update(1, 3)
    progress.update(1, 0)
    progress.close()
    text = stream.getvalue()
    assert text.count('\r') == 3 and text.endswith('\n') and text.count('\n') == 1
    assert '\rimages 1/2 (2.0 images/s), boxes 3/3 (6.0 boxes/s), elapsed 0:00:00, ' \
        'left 0:00:00' in text
