"""amcctl's command line: help, usage errors (exit 2), library discovery and
its failure message. None of these needs the library's AMC functions."""

import re
import shutil
import subprocess

import pytest

from conftest import AMCCTL, LIBRARY, clean_env, run_amcctl


def test_help_exits_zero_and_documents_exit_codes(amcctl):
    for args in (["--help"], ["-h"], ["help"], ["run", "--help"]):
        result = amcctl(*args)
        assert result.code == 0, result
        assert "Usage: amcctl" in result.out
        assert "Exit codes" in result.out
        assert "9 config/crypto/store" in result.out
    # The overview documents the config file; a command's page its own
    # options only (issue 22: `run --help` shows only run).
    assert "\"defaults\"" in amcctl("--help").out


def test_each_command_has_its_own_help(amcctl):
    for args in (["run", "--help"], ["help", "run"], ["--help", "run"], ["run", "-h"]):
        result = amcctl(*args)
        assert result.code == 0, (args, result)
        assert result.out.startswith("amcctl run: "), (args, result)
        assert "--window TYPE" in result.out and "--no-wait" in result.out
        # Nothing of the other commands.
        for other in ("workflow sync", "--refresh-token-file", "--definition", "auth login", "--since"):
            assert other not in result.out, (args, other)
    result = amcctl("auth", "import", "--help")
    assert result.code == 0 and "--refresh-token-file FILE" in result.out and "--window" not in result.out, result
    result = amcctl("help", "executions", "list")
    assert result.code == 0 and "--since T" in result.out and "--head" not in result.out, result
    overview = amcctl("--help").out
    for words in ("auth logout", "executions list", "configure", "completion", "man"):
        assert words in overview
    result = amcctl("help", "frobnicate")
    assert result.code == 2 and result.out == "", result


def test_options_of_another_command_are_refused_naming_it(amcctl):
    result = amcctl("workflow", "list", "--head", "3", env=clean_env(AMC_LIBRARY="/nonexistent/libamc.so.1"))
    assert result.code == 2, result
    assert "--head is not an option of 'workflow list'" in result.err and "'run'" in result.err, result
    result = amcctl("accounts", "--dry-run")
    assert result.code == 2 and "--dry-run is not an option of 'accounts'" in result.err, result
    result = amcctl("run", "--workflow-id", "wf_a", "--no-wait", "--out", "x")
    assert result.code == 2 and "--no-wait" in result.err, result


def test_mistyped_words_get_a_did_you_mean(amcctl):
    cases = [
        (["--jsno", "accounts"], "did you mean --json?"),
        (["run", "--workflow-id", "wf_a", "--windw", "X"], "did you mean --window?"),
        (["acounts"], "did you mean 'accounts'?"),
        (["workflow", "lst"], "did you mean 'workflow list'?"),
        (["executions", "lsit"], "did you mean 'executions list'?"),
    ]
    for args, expected in cases:
        result = amcctl(*args)
        assert result.code == 2, (args, result)
        assert expected in result.err, (args, result)


def run_raw(*args):
    completed = subprocess.run([str(AMCCTL), *args], capture_output=True, env=clean_env(), timeout=60)
    return completed.returncode, completed.stdout, completed.stderr


def test_arguments_that_are_not_utf8_or_oversized_are_refused_unechoed(amcctl):
    code, out, err = run_raw("--credential", b"caf\xe9-Atzr|secret", "accounts")
    assert code == 2, err
    assert b"argument 2 is not valid UTF-8" in err and b"secret" not in err and out == b""
    code, out, err = run_raw("run", "--workflow-id", "wf_" + "a" * 70000)
    assert code == 2, err
    assert b"argument 3 is 70003 bytes long" in err and b"aaaa" not in err
    # The variables that stand in for arguments too.
    env = clean_env(AMC_CREDENTIAL="caf\udce9")
    completed = subprocess.run([str(AMCCTL), "accounts"], capture_output=True, env=env, timeout=60)
    assert completed.returncode == 2, completed
    assert b"AMC_CREDENTIAL is not valid UTF-8" in completed.stderr


def test_files_with_a_nul_byte_are_refused_not_cut_short(amcctl, tmp_path):
    query = tmp_path / "nul.sql"
    query.write_bytes(b"SELECT 1\nFROM x\x00; DROP everything\n")
    # Checked before anything is loaded: a usage error.
    result = amcctl("run", "--sql", query, env=clean_env(AMC_LIBRARY="/nonexistent/libamc.so.1"))
    assert result.code == 2, result
    assert f"{query}: line 2, column 7 is a NUL byte" in result.err
    config = tmp_path / "config.json"
    config.write_bytes(b'{"region": "na"}\x00{"region": "eu"}')
    result = amcctl("--config", config, "store", "list")
    assert result.code == 9 and f"{config}: line 1, column 17 is a NUL byte" in result.err, result


def test_man_page_and_completion_come_from_the_help_tables(amcctl):
    man = amcctl("man")
    assert man.code == 0, man
    assert man.out.startswith(".TH AMCCTL 1")
    for words in ("auth logout", "executions list", "workflow sync", "run"):
        assert f".SS {words}" in man.out
    # Every option a command's help lists is in the man page, and in the
    # completion of that command.
    bash = amcctl("completion", "bash")
    zsh = amcctl("completion", "zsh")
    assert bash.code == 0 and zsh.code == 0
    assert zsh.out.startswith("#compdef amcctl")
    for command in (["run"], ["executions", "list"], ["auth", "import"]):
        page = amcctl(*command, "--help").out
        options = set(re.findall(r"^  (--[a-z-]+)", page.split("Command options")[1], re.M))
        assert options, page
        for option in options:
            assert "\\-\\-" + option[2:].replace("-", "\\-") in man.out, option
            assert option in bash.out and option in zsh.out, option
    assert amcctl("completion", "fish").code == 2


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_offers_the_command_options(amcctl, tmp_path):
    script = tmp_path / "amcctl.bash"
    script.write_text(amcctl("completion", "bash").out)

    def complete(*words):
        line = " ".join(words)
        program = (f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _amcctl; "
                   "printf '%s\\n' \"${COMPREPLY[@]}\"")
        completed = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
        assert completed.returncode == 0, completed.stderr
        return set(completed.stdout.split())

    assert {"auth", "run", "executions", "workflow"} <= complete("amcctl", "")
    assert complete("amcctl", "auth", "lo") == {"login", "logout"}
    assert "--no-wait" in complete("amcctl", "run", "--no")
    assert "--no-wait" not in complete("amcctl", "workflow", "list", "--no")
    assert "--since" in complete("amcctl", "--json", "executions", "list", "--si")


def test_version_names_the_loaded_library(amcctl):
    result = amcctl("--version")
    assert result.code == 0, result
    assert "libamc 1." in result.out


def test_usage_errors_exit_two(amcctl):
    cases = [
        [],                                        # no command
        ["frobnicate"],                            # unknown command
        ["workflow"],                              # missing subcommand
        ["workflow", "frob"],                      # unknown subcommand
        ["--no-such-option", "accounts"],          # unknown option
        ["accounts", "extra"],                     # unexpected argument
        ["workflow", "sync"],                      # sync needs --file
        ["workflow", "sync", "--file", "x.sql", "--id", "a", "--name", "b"],
        ["workflow", "get"],                       # needs an id
        ["run"],                                   # needs --workflow-id or --sql
        ["run", "--workflow-id", "wf_a", "--sql", "q.sql"],
        ["run", "--workflow-id", "wf_a", "--window", "EXPLICIT"],
        ["run", "--workflow-id", "wf_a", "--start", "2026-01-01T00:00:00"],
        ["run", "--workflow-id", "wf_a", "--param", "novalue"],
        ["run", "--workflow-id", "wf_a", "--head", "-1"],
        ["--timeout", "soon", "accounts"],
        ["--timeout"],                             # option without value
        ["status"],                                # needs an execution id
        ["--sandbox", "--config", "c.json", "accounts"],
    ]
    for args in cases:
        result = amcctl(*args)
        assert result.code == 2, (args, result)
        assert result.err.startswith("amcctl: "), (args, result)
        assert result.out == "", (args, result)


def test_usage_errors_do_not_need_the_library(amcctl):
    result = amcctl("run", env=clean_env(AMC_LIBRARY="/nonexistent/libamc.so.1"))
    assert result.code == 2, result


def test_missing_library_lists_every_path_tried(tmp_path):
    lonely = tmp_path / "bin" / "amcctl"
    lonely.parent.mkdir()
    shutil.copy(AMCCTL, lonely)
    env = clean_env()
    env.pop("LD_LIBRARY_PATH", None)
    result = run_amcctl("store", "list", env=env, program=lonely)
    assert result.code == 9, result
    assert "cannot load libamc.so.1; tried:" in result.err
    for tried in (f"{lonely.parent}/libamc.so.1", f"{lonely.parent}/../capi/libamc.so.1",
                  f"{lonely.parent}/../lib/libamc.so.1", "  libamc.so.1:"):
        assert tried in result.err, result
    assert "AMC_LIBRARY" in result.err


def test_amc_library_variable_is_the_only_place_tried(amcctl, tmp_path):
    missing = tmp_path / "nowhere" / "libamc.so.1"
    result = amcctl("store", "list", env=clean_env(AMC_LIBRARY=str(missing)))
    assert result.code == 9, result
    assert str(missing) in result.err
    assert "no other place was tried" in result.err
    # A directory holding the library works too.
    result = amcctl("--version", env=clean_env(AMC_LIBRARY=str(LIBRARY.parent)))
    assert result.code == 0, result
    assert str(LIBRARY.parent) in result.out


def test_a_file_that_is_not_libamc_is_refused(amcctl, tmp_path):
    bogus = tmp_path / "libamc.so.1"
    bogus.write_text("not a library")
    result = amcctl("store", "list", env=clean_env(AMC_LIBRARY=str(bogus)))
    assert result.code == 9, result
    assert str(bogus) in result.err


def test_bad_config_file_exits_nine(amcctl, tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{not json")
    result = amcctl("--config", config, "store", "list")
    assert result.code == 9, result
    assert "not a JSON object" in result.err
    result = amcctl("--config", tmp_path / "missing.json", "store", "list")
    assert result.code == 9, result


def test_a_sandbox_that_cannot_start_exits_nine(amcctl, tmp_path):
    directory = tmp_path / "sandbox"
    directory.mkdir(mode=0o700)
    result = amcctl("--sandbox", "--sandbox-dir", directory, "accounts",
                    env=clean_env(AMC_SANDBOX=str(tmp_path / "no-such-amc-sandbox")))
    assert result.code == 9, result
    assert "exited during start-up" in result.err
    assert "no-such-amc-sandbox" in result.err


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh (.ci/install-deps.sh installs it)")
def test_zsh_completion_offers_the_command_options(amcctl, tmp_path):
    script = tmp_path / "_amcctl"
    script.write_text(amcctl("completion", "zsh").out)
    assert subprocess.run(["zsh", "-n", str(script)], timeout=30).returncode == 0

    def complete(*words):
        # compadd (a completion builtin) stubbed to print what is offered;
        # zsh itself filters the offers by the word's prefix.
        program = ("compadd() { print -l -- \"$@\"; }; _files() { print FILES; }; compdef() { :; }; "
                   f"source {script}; words=({' '.join(words)}); CURRENT={len(words)}; _amcctl")
        completed = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=30)
        assert completed.returncode == 0, completed.stderr
        return set(completed.stdout.split()) - {"--"}

    assert {"login", "logout", "status"} <= complete("amcctl", "auth", "lo")
    assert "--no-wait" in complete("amcctl", "run", "--no")
    assert "--no-wait" not in complete("amcctl", "workflow", "list", "--no")
    assert complete("amcctl", "run", "--sql", "x") == {"FILES"}
