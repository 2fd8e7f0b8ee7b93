"""The demo keeps its ports across a quick restart, so links in the emails it stored keep working."""
from __future__ import annotations

import socket

from devstore import demo


def _port_in_time_wait() -> int:
    """A closed listening port whose last connection waits in TIME_WAIT, as right after Ctrl-C."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server's side closes first, so its end is the one left in TIME_WAIT
        client.recv(1)
        client.close()
    return port


def test_a_port_left_in_time_wait_by_a_quick_restart_is_taken_again_without_a_word(capsys):
    port = _port_in_time_wait()
    assert demo._port(port, "Advocate") == port
    assert capsys.readouterr().out == ""


def test_a_port_another_program_listens_on_is_replaced_and_the_demo_says_so(capsys):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        chosen = demo._port(busy, "Advocate")
    assert chosen != busy
    said = capsys.readouterr().out
    assert f"Port {busy} is in use, so Advocate runs on port {chosen} instead" in said
    assert "links in emails from an earlier run" in said
