# Embed templates/*.yaml into the library as C strings, so the binary carries
# its templates and needs no data directory at run time.
function(envup_embed_templates out files)
	string(REPLACE ";" "|" joined "${files}")
	add_custom_command(OUTPUT ${out}
		COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${joined}" -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
		DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
		COMMENT "Embedding templates"
		VERBATIM)
endfunction()
