@echo off
rem runcode shim: runs the launcher built for this machine. The launcher finds,
rem verifies and caches the runcode CLI; nothing of that lives here.
setlocal
set "RC_ARCH="
if /i "%PROCESSOR_ARCHITECTURE%"=="AMD64" set "RC_ARCH=amd64"
if /i "%PROCESSOR_ARCHITEW6432%"=="AMD64" set "RC_ARCH=amd64"
if /i "%PROCESSOR_ARCHITECTURE%"=="ARM64" set "RC_ARCH=arm64"
set "RC_LAUNCHER=%~dp0launcher\runcode-launcher-windows-%RC_ARCH%.exe"
if not defined RC_ARCH goto missing
if not exist "%RC_LAUNCHER%" goto missing
"%RC_LAUNCHER%" %*
exit /b %ERRORLEVEL%
:missing
echo runcode: no launcher for %PROCESSOR_ARCHITECTURE% in this plugin; set RUNCODE_BIN to a runcode binary 1>&2
exit /b 1
