"""`keactl leases shell`: the lease verbs at an interactive prompt.

Each line is split like a shell command line and run as the `keactl leases`
subcommand it names, against the source opened once for the session.  Errors
print one line and the prompt continues; the exit status says whether any line
failed.  readline gives history (saved to a file) and tab completion of verbs
and of the options of the verb being typed.
"""
import cmd
import os
import shlex
import sys

import click

from kea_tools.errors import UserError

EXIT_WORDS = ("quit", "exit")


class LeaseShell(cmd.Cmd):
    """A prompt dispatching to the subcommands of the `leases` click group."""

    intro = None

    def __init__(self, group_ctx, history=None, stdin=None, stdout=None):
        super().__init__(stdin=stdin, stdout=stdout)
        self.group_ctx = group_ctx
        self.group = group_ctx.command
        self.interactive = (stdin or sys.stdin).isatty()
        self.use_rawinput = stdin is None
        self.prompt = "keactl leases> " if self.interactive else ""
        self.history = history or os.environ.get(
            "KEACTL_HISTORY", os.path.expanduser("~/.keactl_leases_history"))
        self.failures = 0

    def verbs(self):
        return [name for name in self.group.list_commands(self.group_ctx) if name != "shell"]

    # -- running lines ------------------------------------------------------------
    def emptyline(self):
        return False

    def do_EOF(self, _arg):
        if self.interactive:
            self.stdout.write("\n")
        return True

    def do_help(self, arg):
        if arg:
            return self.default(f"{arg} --help")
        self.stdout.write("verbs: " + " ".join(self.verbs()) + "  (VERB --help; quit)\n")
        return False

    def default(self, line):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as err:
            return self._fail(f"cannot split the line: {err}")
        if not words:
            return False
        if words[0] in EXIT_WORDS:
            return True
        command = self.group.get_command(self.group_ctx, words[0])
        if command is None or words[0] == "shell":
            return self._fail(f"unknown verb {words[0]!r} (try: help)")
        try:
            with command.make_context(words[0], words[1:], parent=self.group_ctx) as ctx:
                command.invoke(ctx)
        except click.exceptions.Exit as done:
            if done.exit_code:
                self.failures += 1
        except click.ClickException as err:
            self.failures += 1
            err.show()
        except click.exceptions.Abort:
            return self._fail("aborted")
        except UserError as err:
            return self._fail(str(err) if hasattr(err, "file") else f"keactl: {err}")
        return False

    def _fail(self, message):
        self.failures += 1
        click.echo(message, err=True)
        return False

    # -- completion ------------------------------------------------------------
    def completenames(self, text, *ignored):
        return [v + " " for v in self.verbs() + list(EXIT_WORDS) if v.startswith(text)]

    def completedefault(self, text, line, begidx, endidx):
        words = line.split()
        command = self.group.get_command(self.group_ctx, words[0]) if words else None
        if command is None:
            return []
        options = [opt for param in command.params for opt in getattr(param, "opts", [])
                   + getattr(param, "secondary_opts", []) if opt.startswith("--")]
        options.append("--help")
        return [o + " " for o in sorted(set(options)) if o.startswith(text)]

    # -- the session -------------------------------------------------------------
    def run(self):
        """Read lines until EOF or quit; returns the number of failed lines."""
        readline = None
        if self.interactive and self.use_rawinput:
            try:
                import readline
                readline.set_completer_delims(" \t\n")
                try:
                    readline.read_history_file(self.history)
                except OSError:
                    pass
            except ImportError:
                readline = None
        try:
            self.cmdloop()
        except KeyboardInterrupt:
            self.stdout.write("\n")
        finally:
            if readline is not None:
                try:
                    readline.set_history_length(1000)
                    readline.write_history_file(self.history)
                except OSError:
                    pass
        return self.failures
