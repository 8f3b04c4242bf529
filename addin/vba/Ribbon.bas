Attribute VB_Name = "Ribbon"
' Callbacks of the Reliquat ribbon tab (customUI/customUI.xml).
' Each button runs one Python entry point through the xlwings add-in, called by name
' so that this project needs no reference to xlwings. The logic lives in Python.
Option Explicit

Public Sub OnExtract(control As IRibbonControl)
    On Error GoTo NoXlwings
    Application.Run "xlwings.xlam!RunPython", "import addin.excel.buttons as b; b.extract()"
    Exit Sub
NoXlwings:
    ShowXlwingsMissing Err.Description
End Sub

Public Sub OnValidate(control As IRibbonControl)
    On Error GoTo NoXlwings
    Application.Run "xlwings.xlam!RunPython", "import addin.excel.buttons as b; b.validate()"
    Exit Sub
NoXlwings:
    ShowXlwingsMissing Err.Description
End Sub

Public Sub OnCommit(control As IRibbonControl)
    On Error GoTo NoXlwings
    Application.Run "xlwings.xlam!RunPython", "import addin.excel.buttons as b; b.commit()"
    Exit Sub
NoXlwings:
    ShowXlwingsMissing Err.Description
End Sub

Public Sub OnReverse(control As IRibbonControl)
    On Error GoTo NoXlwings
    Application.Run "xlwings.xlam!RunPython", "import addin.excel.buttons as b; b.reverse()"
    Exit Sub
NoXlwings:
    ShowXlwingsMissing Err.Description
End Sub

Public Sub OnHelp(control As IRibbonControl)
    On Error GoTo NoXlwings
    Application.Run "xlwings.xlam!RunPython", "import addin.excel.buttons as b; b.help()"
    Exit Sub
NoXlwings:
    ShowXlwingsMissing Err.Description
End Sub

' Python reports its own errors in a message box; an error raised here means RunPython
' itself could not be reached, which in practice is a missing xlwings add-in.
Private Sub ShowXlwingsMissing(ByVal reason As String)
    MsgBox "Reliquat could not start Python through the xlwings add-in:" & vbCrLf & _
           reason & vbCrLf & vbCrLf & _
           "Install the add-in with 'xlwings addin install', then restart Excel.", _
           vbExclamation, "Reliquat"
End Sub
