"""Reading and writing other tools' generation metadata (AUTOMATIC1111, ComfyUI, NovelAI, ...)."""
