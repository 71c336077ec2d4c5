"""The app's model in a process of its own: the GUI process never imports torch, a model that
loads for seconds never holds up the window, and a crash in the model (a native fault, the GPU
driver, memory) ends that process, not the window. ``client.ModelProcess`` is the app's handle on
it, ``serve`` its main loop, ``messages`` what they say to each other (docs/decisions/0004)."""
