# Renders amcctl's man page and shell completion scripts by running amcctl
# itself (cmake -DAMCCTL=... -DOUT_DIR=... -P render_docs.cmake): the text
# comes from the same option and command tables as --help (amcctl_help.c).
foreach(output IN ITEMS "amcctl.1;man" "amcctl.bash;completion;bash" "_amcctl;completion;zsh")
  list(POP_FRONT output file)
  execute_process(COMMAND "${AMCCTL}" ${output} OUTPUT_FILE "${OUT_DIR}/${file}.new" RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "amcctl ${output} failed (${result})")
  endif()
  file(RENAME "${OUT_DIR}/${file}.new" "${OUT_DIR}/${file}")
endforeach()
