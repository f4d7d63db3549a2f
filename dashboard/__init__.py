"""What a browser sees: operator workspace, client pages, the wall dashboard, websocket hub.

Also the composition root: the app factory and the command line mount every part.
"""
