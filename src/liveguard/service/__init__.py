"""The small API the control room and the command line use to reach the core and adapters."""
