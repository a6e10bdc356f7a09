"""Pure portal logic: who may see what, the read model and how events change it, forms, charts."""
