"""envs/server/desktop.py: DesktopEnv behind the server, against a fake OSWorld VM server.

desktop-env (and ``requests``, which its PythonController imports) cannot be installed here, so
the VM side is driven by the adapter's own stdlib ``VMController`` through ``RunningVM``; the
provider swap for a running VM is tested with a stand-in ``desktop_env`` package.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from remote_fakes import start_fake_vm
from remote_helpers import TOKEN

from envs.osworld import EnvServerRejectedError, OSWorldEnv
from envs.server import serve
from envs.server.desktop import (
    PYAUTOGUI_PREFIX,
    DesktopEnvBackend,
    RunningVM,
    VMController,
    make_desktop_backend,
)
from envs.server.local import local_env

TYPE_TASK = {
    "id": "type-hello",
    "instruction": "Type hello in the open editor.",
    "config": [
        {"type": "launch", "parameters": {"command": ["gedit"], "shell": False}},
        {"type": "sleep", "parameters": {"seconds": 0.01}},
        {
            "type": "execute",
            "parameters": {"command": ["xrandr", "-s", "{SCREEN_WIDTH}x{SCREEN_HEIGHT}"]},
        },
        {"type": "activate_window", "parameters": {"window_name": "gedit"}},
    ],
    "evaluator": {
        "func": "exact_match",
        "result": {"type": "vm_command_line", "command": "cat /tmp/typed"},
        "expected": {"type": "rule", "rules": {"expected": "hello"}},
    },
}


@pytest.fixture
def fake_vm():
    vm, server = start_fake_vm()
    yield vm, server
    server.shutdown()
    server.server_close()


def _backend(server, **kwargs) -> DesktopEnvBackend:
    address = f"127.0.0.1:{server.server_address[1]}"
    return make_desktop_backend(
        vm_address=address, implementation="running_vm", pause_s=0.0, retry_interval_s=0.01,
        screen_size=(64, 48), **kwargs,
    )  # fmt: skip


def test_osworld_task_through_server_and_client_on_a_fake_vm(fake_vm) -> None:
    vm, vm_server = fake_vm
    with local_env(lambda: _backend(vm_server), reset_retries=2, retry_backoff_s=0.01) as (env, _):
        assert env.server_env == "osworld" and env.screen_size == (64, 48)
        obs, info = env.reset(options={"task": TYPE_TASK})
        assert info == {"task_id": "type-hello", "instruction": "Type hello in the open editor."}
        assert [name for name, _ in vm.setups] == ["launch", "activate_window"]
        assert vm.setups[0][1] == {"command": ["gedit"], "shell": False}
        assert vm.setups[1][1] == {"window_name": "gedit", "strict": False, "by_class": False}
        assert vm.commands == [["xrandr", "-s", "64x48"]]  # /setup/execute, placeholders filled

        obs, reward, terminated, _, info = env.step("pyautogui.write('hello')")
        assert (reward, terminated) == (0.0, False)
        assert vm.commands[-1] == ["python", "-c", PYAUTOGUI_PREFIX + "pyautogui.write('hello')"]
        assert obs["screenshot"][0, 0, 1] == 40  # the screen after the action

        obs, reward, terminated, _, info = env.step("DONE")
        assert terminated and info["done"] is True
        assert info["eval_result"] == reward == 1.0  # exact_match on the VM's `cat` output
        assert vm.commands[-1] == "cat /tmp/typed"

        env.reset(options={"task": TYPE_TASK})
        vm.typed = ""
        env.step("pyautogui.write('help')")
        _, reward, terminated, _, info = env.step("DONE")
        assert terminated and info["eval_result"] == 0.0


def test_fail_action_and_the_infeasible_evaluator(fake_vm) -> None:
    _, vm_server = fake_vm
    backend = _backend(vm_server)
    infeasible = {**TYPE_TASK, "config": [], "evaluator": {"func": "infeasible"}}
    backend.reset(infeasible, None)
    assert backend.step("FAIL")[2:] == (True, False, {"fail": True})
    assert backend.evaluate() == 1.0
    backend.reset(TYPE_TASK, None)
    backend.step("FAIL")
    assert backend.evaluate() == 0.0  # a final FAIL fails any feasible task


def test_unsupported_setup_or_evaluator_is_a_clear_500(fake_vm) -> None:
    _, vm_server = fake_vm
    server = serve(lambda: _backend(vm_server), "127.0.0.1", 0, TOKEN, max_lifetime_s=60)
    try:
        env = OSWorldEnv(server.url, token=TOKEN, reset_retries=1)
        chrome = {**TYPE_TASK, "config": [{"type": "chrome_open_tabs", "parameters": {}}]}
        with pytest.raises(Exception, match="chrome_open_tabs.*needs desktop-env"):
            env.reset(options={"task": chrome})
        odd = {**TYPE_TASK, "evaluator": {"func": "compare_pdfs", "result": {"type": "vm_file"}}}
        env.reset(options={"task": odd})
        _, _, terminated, _, info = env.step("DONE")
        assert terminated and info["eval_result"] == 0.0
        assert "compare_pdfs" in info["error"] and "needs desktop-env" in info["error"]
        env.close()
    finally:
        server.shutdown()


def test_vm_controller_retries_then_reports_no_screenshot(fake_vm) -> None:
    vm, vm_server = fake_vm
    controller = VMController("127.0.0.1", vm_server.server_address[1], retry_interval_s=0.01)
    vm.screenshot_failures = 2
    assert controller.get_screenshot().startswith(b"\x89PNG")  # third try
    vm.screenshot_failures = 3
    assert controller.get_screenshot() is None
    assert controller.get_accessibility_tree() == "<desktop-frame/>"
    assert controller.get_terminal_output() == "$ "
    assert controller.get_file("/home/user/a.txt") == b"contents of /home/user/a.txt"


def test_a_vm_without_screenshots_fails_the_reset_clearly(fake_vm) -> None:
    vm, vm_server = fake_vm
    backend = _backend(vm_server)
    vm.screenshot_failures = 100
    with pytest.raises(RuntimeError, match="no screenshot"):
        backend.reset(TYPE_TASK, None)


def test_task_ids_resolve_under_tasks_dir(fake_vm, tmp_path) -> None:
    _, vm_server = fake_vm
    (tmp_path / "chrome").mkdir()
    (tmp_path / "chrome" / "type-hello.json").write_text(json.dumps(TYPE_TASK))
    backend = _backend(vm_server, tasks_dir=str(tmp_path))
    assert backend.resolve_task("type-hello") == TYPE_TASK
    assert backend.resolve_task("chrome/type-hello") == TYPE_TASK
    server = serve(lambda: backend, "127.0.0.1", 0, TOKEN, max_lifetime_s=60)
    try:
        env = OSWorldEnv(server.url, token=TOKEN, reset_retries=5, retry_backoff_s=10)
        assert env.reset(options={"task": "type-hello"})[1]["task_id"] == "type-hello"
        for bad in ("nope", "../chrome/type-hello", ".."):
            with pytest.raises(Exception, match="HTTP 400: bad task"):
                env.reset(options={"task": bad})  # 4xx: not retried (backoff would be 10 s)
        env.close()
    finally:
        server.shutdown()


class FakeDesktopEnv:
    """DesktopEnv's contract without a VM: obs-only reset, 4-tuple step, separate evaluate."""

    def __init__(self, png: bytes) -> None:
        self.png, self.screen_width, self.screen_height = png, 64, 48
        self.calls: list[tuple] = []
        self.controller = self

    def get_screenshot(self) -> bytes:
        return self.png

    def reset(self, task_config=None, seed=None, options=None) -> dict:
        self.calls.append(("reset", task_config, seed))
        return {"screenshot": self.png, "accessibility_tree": None, "terminal": None,
                "instruction": (task_config or {}).get("instruction")}  # fmt: skip

    def step(self, action, pause=2):
        self.calls.append(("step", action, pause))
        return self._obs(), 0, action == "DONE", {}

    def _obs(self) -> dict:
        return {"screenshot": self.png, "instruction": None}

    def evaluate(self) -> float:
        return 1

    def close(self) -> None:
        self.calls.append(("close",))


def test_adapter_maps_desktop_env_to_the_server_contract(fake_vm) -> None:
    vm, _ = fake_vm
    desktop = FakeDesktopEnv(vm.screenshot_png())
    backend = DesktopEnvBackend(desktop, pause_s=0.5)
    assert backend.screen_size == (64, 48)
    png, instruction, info = backend.reset({"id": "a", "instruction": "do it"}, 7)
    assert png == desktop.png and instruction == "do it" and info["task_id"] == "a"
    assert backend.step("DONE") == (desktop.png, 0.0, True, False, {})
    assert backend.evaluate() == 1.0 and backend.screenshot() == desktop.png
    backend.close()
    assert desktop.calls == [
        ("reset", {"id": "a", "instruction": "do it"}, 7),
        ("step", "DONE", 0.5),
        ("close",),
    ]


def test_real_desktop_env_is_pointed_at_a_running_vm(tmp_path, monkeypatch) -> None:
    """With vm_address, DesktopEnv's provider factory is swapped for a stub during __init__ only."""
    package = tmp_path / "desktop_env"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "desktop_env.py").write_text(
        textwrap.dedent("""
        def create_vm_manager_and_provider(provider_name, region, use_proxy=False):
            raise RuntimeError("would start a VM")

        class DesktopEnv:
            def __init__(self, provider_name="vmware", path_to_vm=None, **kwargs):
                self.manager, self.provider = create_vm_manager_and_provider(provider_name, None)
                self.provider.start_emulator(path_to_vm, True, "Ubuntu")
                ip, server, cdp, vnc, vlc = self.provider.get_ip_address(path_to_vm).split(":")
                self.vm_ip, self.server_port, self.chromium_port = ip, int(server), int(cdp)
                self.provider_name, self.kwargs = provider_name, kwargs
                self.screen_width, self.screen_height = kwargs.get("screen_size", (1920, 1080))
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("desktop_env", "desktop_env.desktop_env"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    backend = make_desktop_backend(vm_address="10.0.0.5:5001:9223:8006:8080", headless=True)
    env = backend.env
    assert (env.vm_ip, env.server_port, env.chromium_port) == ("10.0.0.5", 5001, 9223)
    assert env.provider_name == "docker" and env.kwargs == {"headless": True}
    module = sys.modules["desktop_env.desktop_env"]
    with pytest.raises(RuntimeError, match="would start a VM"):
        module.DesktopEnv()  # the swap did not outlive the constructor
    for name in ("desktop_env", "desktop_env.desktop_env"):
        sys.modules.pop(name, None)


def test_without_desktop_env_the_error_says_what_to_install() -> None:
    with pytest.raises(RuntimeError, match="requirements/osworld-server.txt"):
        make_desktop_backend()
    with pytest.raises(ValueError, match="host:port"):
        make_desktop_backend(vm_address="a:b:c", implementation="running_vm")
    assert isinstance(
        make_desktop_backend(vm_address="127.0.0.1", implementation="running_vm").env, RunningVM
    )


@pytest.mark.parametrize(
    "task, reason",
    [({"instruction": "no id"}, "no field 'id'"), ({"id": "x"}, "no field 'instruction'"),
     ({**TYPE_TASK, "config": "gedit"}, "'config' must be a list"),
     ({**TYPE_TASK, "config": ["gedit"]}, "list of objects"),
     ({**TYPE_TASK, "evaluator": []}, "'evaluator' must be a dict"),
     ("a" * 300, "bad task id"), ("broken", "not valid JSON")],
)  # fmt: skip
def test_a_malformed_osworld_task_is_a_400_before_the_vm_is_touched(
    fake_vm, tmp_path, task, reason
) -> None:
    vm, vm_server = fake_vm
    (tmp_path / "broken.json").write_text("{not json")
    server = serve(lambda: _backend(vm_server, tasks_dir=str(tmp_path)), "127.0.0.1", 0, TOKEN,
                   max_lifetime_s=60)  # fmt: skip
    try:
        env = OSWorldEnv(server.url, token=TOKEN, reset_retries=5, retry_backoff_s=10)
        with pytest.raises(EnvServerRejectedError, match=f"HTTP 400: bad task.*{reason}"):
            env.reset(options={"task": task})  # not retried: the backoff would take 10 s
        assert vm.setups == [] and vm.commands == []
        env.close()
    finally:
        server.shutdown()
