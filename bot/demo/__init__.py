"""The offline demo: ``pollbot demo`` (``run``), its transcript, and ``pollbot sandbox``.

Nothing here is imported by ``pollbot run``: the demo brings the sandbox in.
"""
