@echo off
rem runcode shim: runs the launcher built for this machine. The launcher finds,
rem verifies and caches the runcode CLI; nothing of that lives here.
setlocal
set "RC_ARCH="
if /i "%PROCESSOR_ARCHITECTURE%"=="AMD64" set "RC_ARCH=amd64"
if /i "%PROCESSOR_ARCHITEW6432%"=="AMD64" set "RC_ARCH=amd64"
if /i "%PROCESSOR_ARCHITECTURE%"=="ARM64" set "RC_ARCH=arm64"
set "RC_LAUNCHER=%~dp0launcher\runcode-launcher-windows-%RC_ARCH%.exe"
rem Windows on ARM runs x64 programs: the amd64 launcher serves when the
rem bundle has no arm64 one.
if "%RC_ARCH%"=="arm64" if not exist "%RC_LAUNCHER%" set "RC_LAUNCHER=%~dp0launcher\runcode-launcher-windows-amd64.exe"
if not defined RC_ARCH goto missing
if not exist "%RC_LAUNCHER%" goto missing
"%RC_LAUNCHER%" %*
exit /b %ERRORLEVEL%
:missing
rem No launcher fits this machine: a binary of the user's own, else a refusal.
if defined RUNCODE_BIN if exist "%RUNCODE_BIN%" (
  "%RUNCODE_BIN%" %*
  exit /b %ERRORLEVEL%
)
echo runcode: no launcher for %PROCESSOR_ARCHITECTURE% in this plugin; set RUNCODE_BIN to a runcode binary 1>&2
exit /b 1
