"""Proposals: citizens submit, edit, withdraw, support, discuss and follow ideas during a
process's proposal phase; accepted proposals become ballot projects.

``models`` holds the tables, ``services`` every change (they flush, the route commits),
``projects`` the ballot's projects (the only code that adds, removes, orders or moves them),
``queries`` the public list and search, ``similarity`` the "is this already proposed?" hint,
``images`` the upload check, ``notify`` the e-mails, ``api`` the open data and JSON API.
"""
