"""``cooldownd report``: one self-contained HTML page (inline SVG and CSS, no script, nothing fetched).

Imported only by the ``report`` command, never by ``run``: the daemon's memory does not grow from it.
``model`` turns stored rows into what the page shows (pure), ``charts`` draws SVG, ``page`` lays out
the HTML, ``units`` reads the user's locale.
"""
