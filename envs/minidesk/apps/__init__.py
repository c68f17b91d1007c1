"""MiniDesk apps: browser (with its site catalogue), text editor, file manager, form."""
