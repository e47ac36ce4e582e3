# The callback log lives here (see the callbacks issue).
