"""amcctl's command line: help, usage errors (exit 2), library discovery and
its failure message. None of these needs the library's AMC functions."""

import shutil

from conftest import AMCCTL, LIBRARY, clean_env, run_amcctl


def test_help_exits_zero_and_documents_exit_codes(amcctl):
    for args in (["--help"], ["-h"], ["help"], ["run", "--help"]):
        result = amcctl(*args)
        assert result.code == 0, result
        assert "Usage: amcctl" in result.out
        assert "Exit codes" in result.out
        assert "9 config/crypto/store" in result.out
        assert "\"defaults\"" in result.out


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
