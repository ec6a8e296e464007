#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args)
{
	return PyLong_FromLong(42);
}

static PyMethodDef methods[] = {
	{ "answer", answer, METH_NOARGS, "The answer." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = { PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods };

PyMODINIT_FUNC PyInit__speed(void)
{
	return PyModule_Create(&module);
}
