from fieldkit.cli.main import entry

entry()
