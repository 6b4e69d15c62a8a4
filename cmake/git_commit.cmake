# Writes OUT (a header defining PIPE_GIT_COMMIT) from `git rev-parse HEAD` in
# SOURCE_DIR, at every build; configure_file leaves it untouched when the
# commit has not changed, so nothing rebuilds needlessly. Run records name it.
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR NOT commit)
  set(commit "unknown")
endif()
execute_process(COMMAND git -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(changes)
  set(commit "${commit}+modified")
endif()
file(WRITE "${OUT}.new" "#define PIPE_GIT_COMMIT \"${commit}\"\n")
configure_file("${OUT}.new" "${OUT}" COPYONLY)
